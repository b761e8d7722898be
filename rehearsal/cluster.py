"""The steps a real cluster's end-to-end run takes from outside it (.github/workflows/e2e.yml),
the same code the twin runs against its processes:

  python -m rehearsal.cluster follow --loadgen URL --start TS --report PATH [--otlp HOST:PORT]
      follow the load generator's status minute by minute while an OTLP receiver takes the
      collector's spans (exporter=otlp pointed at it) to evaluate the alert; write the report.
  python -m rehearsal.cluster judge --report PATH --kubectl "kubectl --context C -n NS"
      after the scenario was removed: read the database's aftermath through `kubectl exec`
      (indexes back and valid, stock balanced), add it to the report, print the verdict; the
      exit code is `make demo`'s (0 met, 1 not restored, 3 a missed mark)."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

from rehearsal.console import verdict
from rehearsal.otlp import OtlpReceiver, make_receiver
from rehearsal.report import write_report
from rehearsal.runner import RunOptions, follow
from scenarios.catalogue import get_scenario
from scenarios.model import Scenario
from scenarios.targets import check_targets, summary

AFTERMATH_SQL = """
SELECT json_build_object(
  'restore', json_build_object(
    'indexes_restored', (SELECT coalesce(bool_and(EXISTS (
        SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = wanted AND i.indisvalid)), true)
      FROM unnest(string_to_array(:'indexes', ',')) AS wanted),
    'invalid_indexes', (SELECT coalesce(json_agg(c.relname ORDER BY c.relname), '[]'::json)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid)),
  'stock', (SELECT json_build_object(
      'products_unbalanced', count(*) FILTER (WHERE p.stock_received <> p.stock_quantity + coalesce(s.sold, 0)),
      'orders_without_lines', (SELECT count(*) FROM orders o
                               WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)),
      'orders', (SELECT count(*) FROM orders))
    FROM products p LEFT JOIN (SELECT product_id, sum(quantity) AS sold FROM order_lines GROUP BY product_id) s
      ON s.product_id = p.id));
"""


def pod_psql(kubectl: str, sql: str, env: dict[str, str] | None = None, *flags: str,
             user: str = "ecommerce_user", db: str = "ecommerce") -> str:
    """`sql` run by psql in the PostgreSQL pod, as the scenario's own commands reach it; its output."""
    command = [*shlex.split(kubectl), "exec", "-i", "statefulset/postgres", "-c", "postgres", "--",
               "psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", *flags, "-U", user, "-d", db]
    done = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=300, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"psql in the pod failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return done.stdout.strip()


def aftermath(kubectl: str, scenario: Scenario, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The database after the restore, read in the PostgreSQL pod: its indexes and its stock."""
    out = pod_psql(kubectl, AFTERMATH_SQL, env, "-v", f"indexes={','.join(scenario.dropped_indexes)}")
    return json.loads(out.splitlines()[-1])  # type: ignore[no-any-return]


def follow_report(opts: RunOptions, loadgen: str, receiver: OtlpReceiver, start: float,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The demo followed to its end and reported; its restore is judged later (`judge`)."""
    # A cluster's generator plays the whole timeline: following a stretch of it, nothing drains.
    whole = not opts.duration_minutes or opts.duration_minutes >= opts.scenario.duration_minutes
    records = follow(opts, loadgen, receiver, start, drain=whole)
    if opts.duration_minutes:  # a shortened run: the generator's own duration is the rendered one
        records = [r for r in records if r["minute"] < opts.duration_minutes]
    pending: dict[str, Any] = {"restore": {"indexes_restored": None, "invalid_indexes": [], "pending": "judge"}}
    return write_report(opts.scenario, opts.minute_seconds, opts.report_path, records, receiver.store.snapshot(),
                        {**pending, **(extra or {})})


def judge(report_path: Path, kubectl: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The report with the database's aftermath added and its targets checked again."""
    report = json.loads(report_path.read_text())
    scenario = get_scenario(report["scenario"])
    report.update(aftermath(kubectl, scenario, env=env))
    report["targets"] = summary(check_targets(scenario, report))
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report  # type: ignore[no-any-return]


def cmd_follow(args: argparse.Namespace) -> int:
    host, port = args.otlp.rsplit(":", 1)
    receiver = make_receiver(None, None, (host, int(port)))
    print(f"OTLP receiver on {args.otlp}; following {args.loadgen} from {args.start}", flush=True)
    try:
        opts = RunOptions(get_scenario(args.scenario), args.report.parent, args.minute_seconds, args.report)
        follow_report(opts, args.loadgen, receiver, args.start)
    finally:
        receiver.stop()
    print(f"Report: {args.report} (the restore is judged after the scenario is removed)")
    return 0


def cmd_judge(args: argparse.Namespace) -> int:
    return verdict(judge(args.report, args.kubectl))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearsal.cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("follow")
    f.add_argument("--loadgen", required=True, help="the load generator's URL (a port-forward)")
    f.add_argument("--start", type=float, required=True, help="pulumi stack output demoStartTimestamp")
    f.add_argument("--minute-seconds", type=float, default=60.0)
    f.add_argument("--scenario", default="blackfriday")
    f.add_argument("--report", type=Path, required=True)
    f.add_argument("--otlp", default="0.0.0.0:4318", help="where the receiver listens for the collector")
    j = sub.add_parser("judge")
    j.add_argument("--report", type=Path, required=True)
    j.add_argument("--kubectl", required=True, help='e.g. "kubectl --context kind-bfdemo -n ecommerce-demo"')
    args = parser.parse_args(argv)
    return int(cmd_follow(args) if args.command == "follow" else cmd_judge(args))


if __name__ == "__main__":
    raise SystemExit(main())
