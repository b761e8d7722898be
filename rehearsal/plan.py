"""The plan: what a scenario changes and when, printed from its definition alone (no cluster,
no Pulumi CLI).

`bfdemo plan blackfriday [--start 2025-11-28T14:00:00Z] [--minute-seconds 60]`

Its times come from scenarios.timeline, as the Pulumi stack's `timeline` output does, so the
plan and the stack cannot disagree about when things happen."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from scenarios.catalogue import get_scenario
from scenarios.model import Scenario
from scenarios.scripts import restorations
from scenarios.timeline import utc
from services.ports import PORTS

DEFAULT_MINUTE_SECONDS = 60.0


def _config_lines(s: Scenario, minute_seconds: float) -> list[str]:
    rows = [(c.key, c.baseline, c.scenario, c.reason) for c in s.config]
    rows.append(("DEMO_START_TIMESTAMP", "(unset)", "<pulumi up + demoLeadSeconds>",
                 "the demo clock; stable until the scenario changes"))
    seconds = f"{minute_seconds:g}"
    rows.append(("DEMO_MINUTE_SECONDS", seconds, seconds,
                 "unchanged (config key demoMinuteSeconds)"))
    return [f"  {key:<23} {old + ' -> ' + new:<36} {why}" for key, old, new, why in rows]


def _index_lines(s: Scenario) -> list[str]:
    lines = [f"Indexes dropped by scenarios/sql/{s.break_sql}, restored by scenarios/sql/{s.restore_sql}:"]
    for index, statement in restorations(s).items():
        lines.append(f"  {index:<29} restored by: {statement}")
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
        f"{a.catalog_p95_ms_gt:g} ms over {a.window_minutes} min, held {a.hold_minutes} min")
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
        "Workloads that roll (all read the services ConfigMap): " + ", ".join(sorted(PORTS)),
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

