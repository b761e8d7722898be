"""`bfdemo`: the local rehearsal and its tools.

  bfdemo demo       run the scenario locally on embedded PostgreSQL, restore at the end
  bfdemo calibrate  measure this machine and size the catalog and the traffic from it
  bfdemo restore    return the database to baseline after a crash; stop what a run left
  bfdemo plan NAME  print what a scenario changes and when (no cluster needed)
  bfdemo twin       pulumi up for real on a local cluster, pods as processes: the cluster twin
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rehearsal.console import verdict
from scenarios.catalogue import SCENARIOS, get_scenario

WORKDIR = Path(os.environ.get("DEMO_WORKDIR", ".demo"))


def _scenario_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="blackfriday", choices=sorted(SCENARIOS))


def _minute_seconds(raw: str) -> float:
    value = float(raw)
    if not 1 <= value <= 600:
        raise argparse.ArgumentTypeError(f"DEMO_MINUTE_SECONDS must be between 1 and 600, got {raw}")
    return value


def cmd_demo(args: argparse.Namespace) -> int:
    from rehearsal.runner import RunOptions, run_demo

    scenario = get_scenario(args.scenario)
    if not 0 <= args.from_minute < (args.minutes or scenario.duration_minutes):
        raise SystemExit(f"--from-minute must be at least 0 and before the last minute of '{scenario.name}', "
                         f"got {args.from_minute}")
    report = Path(args.report or os.environ.get("DEMO_REPORT") or WORKDIR / "report.json").resolve()
    print(f"Rehearsing '{args.scenario}' at {args.minute_seconds:g} s per demo minute; report: {report}")
    result = run_demo(RunOptions(scenario, WORKDIR.resolve(), args.minute_seconds, report,
                                 products=args.products, duration_minutes=args.minutes,
                                 from_minute=args.from_minute))
    restore = result["restore"]
    print(f"Restored: indexes back {restore['indexes_restored']}, invalid {restore['invalid_indexes']}; "
          f"alert first fired in minute {result['alert']['first_minute']}")
    print(f"Report: {report}\nChart:  {report.with_suffix('.png')}")
    return verdict(result)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """measure this machine; size the catalog and the traffic from it"""
    from rehearsal.calibrate import calibrate_here
    from rehearsal.crashstate import CrashState
    from rehearsal.recovery import recover

    scenario = get_scenario(args.scenario)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    pg = recover(WORKDIR.resolve(), CrashState.load(WORKDIR / "crash-state.json"), scenario)
    try:
        result = calibrate_here(pg, scenario)
    finally:
        pg.stop()
    (WORKDIR / "calibration.json").write_text(result.to_json())
    print(result.to_json(), end="")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """return the database to baseline after a crash; stop what a run left"""
    from rehearsal.recovery import restore

    scenario = get_scenario(args.scenario)
    if not (WORKDIR / "pgdata").exists():
        print("Nothing to restore: no local database yet.")
        return 0
    state = restore(WORKDIR.resolve(), scenario)
    print(f"Indexes: {', '.join(sorted(state.definitions))}; invalid: {list(state.invalid) or 'none'}")
    return 0 if state.restored(scenario) else 1


def cmd_twin(args: argparse.Namespace) -> int:
    from rehearsal.kube.twin import main as twin_main

    return twin_main(args.rest)


def cmd_alerts(args: argparse.Namespace) -> int:
    from rehearsal.alerts import write_dashboard, write_rules

    path = write_rules(args.scenario, args.minute_seconds, args.out)
    print(f"Prometheus rules: {path} (check with: promtool check rules {path})")
    board = write_dashboard(args.scenario, args.minute_seconds, args.out)
    print(f"Grafana dashboard: {board} (import it and pick the Prometheus that loads the rules)")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from rehearsal.plan import main as plan_main

    return plan_main([args.name, *args.rest])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bfdemo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the scenario locally")
    _scenario_arg(demo)
    demo.add_argument("--minute-seconds", type=_minute_seconds,
                      default=_minute_seconds(os.environ.get("DEMO_MINUTE_SECONDS", "10")))
    demo.add_argument("--report", default=None, help="JSON report path (default $DEMO_REPORT or .demo/report.json)")
    demo.add_argument("--products", type=int, default=None, help="override the calibrated catalog size")
    demo.add_argument("--minutes", type=int, default=None, help="stop after this many demo minutes")
    demo.add_argument("--from-minute", type=int, default=0,
                      help="start at this demo minute (rehearse a stretch; targets then judge only part)")
    demo.set_defaults(func=cmd_demo)
    for name, func in (("calibrate", cmd_calibrate), ("restore", cmd_restore)):
        p = sub.add_parser(name, help=func.__doc__)
        _scenario_arg(p)
        p.set_defaults(func=func)
    twin = sub.add_parser("twin", help="the stack deployed by the real Pulumi CLI to a local cluster (see make twin)")
    twin.add_argument("rest", nargs=argparse.REMAINDER)
    twin.set_defaults(func=cmd_twin)
    alerts = sub.add_parser("alerts", help="the scenario's alert rules (Prometheus) and dashboard (Grafana) as files")
    _scenario_arg(alerts)
    alerts.add_argument("--minute-seconds", type=_minute_seconds, default=60.0,
                        help="seconds per demo minute, as the stack's demoMinuteSeconds (default 60)")
    alerts.add_argument("--out", type=Path, default=Path("alerts"), help="folder for the files (default ./alerts)")
    alerts.set_defaults(func=cmd_alerts)
    plan = sub.add_parser("plan", help="what a scenario changes and when")
    plan.add_argument("name", nargs="?", default="blackfriday")
    plan.add_argument("rest", nargs=argparse.REMAINDER)
    plan.set_defaults(func=cmd_plan)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("Interrupted: the scenario was restored.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
