"""When things happen: each phase and expected event of a scenario in demo minutes and, given
the stamped start, in UTC. The Pulumi stack's `timeline` output and `bfdemo plan` both come
from here, so the two cannot disagree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scenarios.model import Scenario


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
