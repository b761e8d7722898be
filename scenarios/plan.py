"""What a scenario changes, printed from its definition alone: no cluster, no Pulumi CLI.

`python -m scenarios.plan blackfriday [--start 2025-11-28T14:00:00Z] [--minute-seconds 60]`

The same functions give the Pulumi stack its `timeline` output, so the plan and the stack
cannot disagree about when things happen."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from typing import Any

from scenarios.blackfriday import get_scenario
from scenarios.model import SQL_DIR, Scenario
from services.__main__ import SERVICES

DEFAULT_MINUTE_SECONDS = 60.0


def utc(start: float | None, minute: float, minute_seconds: float) -> str | None:
    """The UTC wall-clock time of a demo minute, given the stamped start."""
    if start is None:
        return None
    moment = datetime.fromtimestamp(start + minute * minute_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def timeline(s: Scenario, start: float | None, minute_seconds: float) -> dict[str, Any]:
    """Each phase and expected event with its demo minutes and, given a start, UTC times."""
    alert = s.alert_event()
    return {
        "start": utc(start, 0, minute_seconds),
        "minuteSeconds": minute_seconds,
        "phases": [{"name": p.name, "startMinute": p.start_minute, "endMinute": p.end_minute,
                    "startUtc": utc(start, p.start_minute, minute_seconds),
                    "description": p.description} for p in s.phases],
        "events": [{"minute": e.minute, "earliest": e.earliest, "latest": e.latest,
                    "utc": utc(start, e.minute, minute_seconds), "what": e.what}
                   for e in s.timeline],
        "alert": {"name": s.alert.name, "minute": alert.minute, "earliest": alert.earliest,
                  "latest": alert.latest, "utc": utc(start, alert.minute, minute_seconds),
                  "earliestUtc": utc(start, alert.earliest, minute_seconds),
                  "latestUtc": utc(start, alert.latest, minute_seconds), "what": alert.what},
    }


def restorations(s: Scenario) -> dict[str, str | None]:
    """For each dropped index, the statement of restore.sql that rebuilds it (None: none does)."""
    sql = s.restore_sql.read_text()
    found: dict[str, str | None] = {}
    for index in s.dropped_indexes:
        match = re.search(rf"CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*?\b{re.escape(index)}\b[^;]*;",
                          sql, re.IGNORECASE)
        found[index] = " ".join(match.group(0).split()) if match else None
    return found


def _rel(path: Any) -> str:
    try:
        return f"sql/{path.relative_to(SQL_DIR)}"
    except ValueError:
        return str(path)


def _config_lines(s: Scenario, minute_seconds: float) -> list[str]:
    rows = [(c.key, c.baseline, c.scenario, c.reason) for c in s.config]
    rows.append(("DEMO_START_TIMESTAMP", "(unset)", "<stamped at pulumi up>",
                 "the demo clock; stable until the scenario changes"))
    seconds = f"{minute_seconds:g}"
    rows.append(("DEMO_MINUTE_SECONDS", seconds, seconds,
                 "unchanged (config key demoMinuteSeconds)"))
    return [f"  {key:<23} {old + ' -> ' + new:<36} {why}" for key, old, new, why in rows]


def _index_lines(s: Scenario) -> list[str]:
    lines = [f"Indexes dropped by {_rel(s.break_sql)}, restored by {_rel(s.restore_sql)}:"]
    for index, statement in restorations(s).items():
        lines.append(f"  {index:<29} restored by: {statement or 'NOTHING (restore.sql misses it)'}")
    return lines


def _when(start: float | None, minute: float, minute_seconds: float) -> str:
    at = utc(start, minute, minute_seconds)
    if at is not None:
        return at[11:]
    offset = int(minute * minute_seconds)
    return f"T+{offset // 60:02d}:{offset % 60:02d}"


def _timeline_lines(s: Scenario, start: float | None, minute_seconds: float) -> list[str]:
    origin = utc(start, 0, minute_seconds) or "the stamped DEMO_START_TIMESTAMP (T+0)"
    lines = [f"Timeline (1 demo minute = {minute_seconds:g} s, starting {origin}):"]
    for p in s.phases:
        span = f"{p.start_minute}-{p.end_minute}"
        lines.append(f"  minute {span:>5}  {_when(start, p.start_minute, minute_seconds):>9}  "
                     f"{p.name:<16} {p.description}")
    for e in s.timeline:
        lines.append(f"  expected {e.minute:>4g}  {_when(start, e.minute, minute_seconds):>9}  "
                     f"{e.what} (window {e.earliest:g}-{e.latest:g})")
    a, ev = s.alert, s.alert_event()
    lines.append(
        f"Alert '{a.name}' expected at minute {ev.minute:g} "
        f"({_when(start, ev.minute, minute_seconds)}; window {ev.earliest:g}-{ev.latest:g}, "
        f"{_when(start, ev.earliest, minute_seconds)}-{_when(start, ev.latest, minute_seconds)}):"
        f" checkout errors > {a.checkout_error_rate_gt:.0%} and catalog p95 > "
        f"{a.catalog_p95_ms_gt:g} ms over {a.window_minutes} min")
    return lines


def render_plan(scenario_name: str, start: float | None = None,
                minute_seconds: float = DEFAULT_MINUTE_SECONDS) -> str:
    s = get_scenario(scenario_name)
    lines = [
        f"Scenario '{s.name}': {s.description}",
        f"Apply: pulumi up -c scenario={s.name}    Restore: pulumi config rm scenario && pulumi up",
        "",
        "Services ConfigMap (key: baseline -> scenario):",
        *_config_lines(s, minute_seconds),
        "",
        *_index_lines(s),
        "",
        "Workloads that roll (all read the services ConfigMap): " + ", ".join(sorted(SERVICES)),
        "Unchanged: PostgreSQL, the OpenTelemetry Collector, the seed Job.",
        "",
        *_timeline_lines(s, start, minute_seconds),
    ]
    return "\n".join(lines) + "\n"


def parse_start(text: str) -> float:
    """A Unix timestamp or an ISO 8601 time (a bare one is taken as UTC)."""
    try:
        return float(text)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bfdemo plan", description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--start", type=parse_start, default=None,
                        help="demo start (Unix seconds or ISO 8601 UTC), e.g. demoStartTimestamp")
    parser.add_argument("--minute-seconds", type=float, default=DEFAULT_MINUTE_SECONDS)
    args = parser.parse_args(argv)
    try:
        text = render_plan(args.scenario, args.start, args.minute_seconds)
    except KeyError as err:
        print(f"bfdemo plan: {err.args[0]}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
