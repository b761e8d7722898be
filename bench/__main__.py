"""`make bench`: every benchmark (or those named), the results merged into
bench/results/latest.json, the table printed and written into docs/performance.md.

    python -m bench                      # all
    python -m bench loadgen physics      # some (the others keep their last figures)
    BENCH_QUICK=1 python -m bench        # a fast smoke run of the harness (figures not kept)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.context import BenchContext, quick_from_env
from bench.procs import ROOT
from bench.report import table, update_table
from rehearsal.cpulimit import database_cpu
from rehearsal.crashstate import CrashState
from rehearsal.database import restore_database
from rehearsal.localpg import LocalPostgres
from rehearsal.runner import ensure_calibration, ensure_catalog
from scenarios.blackfriday import BLACKFRIDAY

# Each module's run(ctx); loadgen's returns its two sections, the others one section each.
BENCHES = ("loadgen", "storefront", "restore", "physics")
RESULTS = ROOT / "bench" / "results" / "latest.json"


def machine(products: int) -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    cores = os.cpu_count()
    return {"description": f"{cores} cores ({model}), Python {platform.python_version()}, {platform.system()}",
            "cores": cores, "cpu": model, "products": products}


def _bench(name: str) -> Callable[[BenchContext], dict[str, Any]]:
    run: Callable[[BenchContext], dict[str, Any]] = importlib.import_module(f"bench.{name}").run
    return run if name == "loadgen" else (lambda ctx: {name: run(ctx)})


def calibration_dir(workdir: Path) -> Path:
    """The demo's calibration when one exists (same machine, same physics), else our own."""
    demo = Path(os.environ.get("DEMO_WORKDIR", ROOT / ".demo"))
    return demo if (demo / "calibration.json").exists() else workdir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHES)} (default: all)")
    names = parser.parse_args(argv).names or list(BENCHES)
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; allowed values: {', '.join(BENCHES)}")
    workdir = ROOT / "bench" / ".work"
    workdir.mkdir(parents=True, exist_ok=True)
    quick = quick_from_env()
    pg = LocalPostgres(workdir / "pgdata", cpu=database_cpu(workdir / "pgdata")).up()
    try:
        crash = CrashState(workdir / "crash-state.json", BLACKFRIDAY.name)
        calibration = ensure_calibration(pg, calibration_dir(workdir), BLACKFRIDAY, crash)
        ensure_catalog(pg, calibration.products, BLACKFRIDAY)
        # A fresh calibration leaves its catalog as the demo takes it, the scenario applied; the
        # benchmarks start from the healthy schema (measured without: 324 failed listings).
        restore_database(pg, BLACKFRIDAY)
        ctx = BenchContext(workdir, pg, calibration, BLACKFRIDAY, quick)
        results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() and not quick else {}
        for name in names:
            began = time.monotonic()
            print(f"== {name} ...", flush=True)
            results.update(_bench(name)(ctx))
            print(f"   {name} took {time.monotonic() - began:.0f} s", flush=True)
    finally:
        pg.stop()
    results.update(measured_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), quick=quick,
                   machine=machine(calibration.products), command="make bench", calibration=calibration.to_dict())
    text = table(results)
    print(text)
    out = RESULTS if not quick else workdir / "quick.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    if not quick and update_table(ROOT / "docs" / "performance.md", text):
        print("docs/performance.md's benchmark table updated.")
    print(f"Results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
