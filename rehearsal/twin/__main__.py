"""`bfdemo twin` / `make twin`: the rendered stack run as processes, the scenario played, the
same report and verdict as `make demo`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rehearsal.console import verdict
from rehearsal.twin.render import ROOT
from rehearsal.twin.run import TwinOptions, run_twin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bfdemo twin", description=__doc__)
    parser.add_argument("--stack", type=Path, default=ROOT / "Pulumi.demo.yaml")
    parser.add_argument("-c", dest="config", action="append", default=[], metavar="KEY=VALUE",
                        help="stack config on top of the file (default: scenario=blackfriday, demoMinuteSeconds=10)")
    parser.add_argument("--minutes", type=int, default=None, help="stop after this many demo minutes")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TWIN_WORKDIR", ".twin")))
    args = parser.parse_args(argv)
    overrides = {"scenario": "blackfriday", "demoMinuteSeconds": os.environ.get("DEMO_MINUTE_SECONDS", "10"),
                 **dict(item.split("=", 1) for item in args.config)}
    report = Path(os.environ.get("DEMO_REPORT") or args.workdir / "report.json").resolve()
    print(f"Twin of {args.stack.name} with {overrides}; report: {report}", flush=True)
    result = run_twin(TwinOptions(args.stack, args.workdir.resolve(), report, overrides,
                                  duration_minutes=args.minutes))
    return verdict(result)


if __name__ == "__main__":
    sys.exit(main())
