"""GET /admin/demo-status: the run as the seed's monitoring shows it, per demo minute.

Counters (requests, errors, checkouts) are totals over the run; rates and p95 at the top
level are those of the last completed minute; `minutes` lists every minute from the one the
generator joined to the current one (the current one flagged incomplete)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from services.load_generator.choices import JourneyChooser
from services.load_generator.config import Settings
from services.load_generator.programs import BaselineProgram, DemoProgram

if TYPE_CHECKING:
    from services.load_generator.scheduler import Run


def _baseline(run: Run | None) -> dict[str, Any]:
    if run is None or not isinstance(run.program, BaselineProgram):
        return {"running": False}
    program = run.program
    return {"running": True, "rpm": round(program.total_rpm / program.replicas, 2),
            "journeys": run.stats.journeys, "requests": run.stats.requests,
            "errors": run.stats.errors}


def _utc(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _idle(baseline: Run | None, settings: Settings) -> dict[str, Any]:
    return {
        "running": False, "scenario": None, "minute": None,
        "phase": "baseline" if baseline is not None else "idle", "minute_seconds": None,
        "target_rpm": _baseline(baseline).get("rpm", 0.0), "achieved_rpm": None,
        "requests": 0, "errors": 0, "error_rate": 0.0, "p95_ms": None,
        "checkout_attempts": 0, "checkout_failures": 0,
        "alert": {"fired": False, "first_minute": None}, "minutes": [],
        "replicas": settings.loadgen_replicas, "baseline": _baseline(baseline),
        "reverts_at": _utc(settings.demo_revert_at),
    }


def _phase(run: Run, program: DemoProgram, now: float, current: int | None) -> str:
    if current is None:
        return "pending"
    if run.stopped_at is not None:
        return "stopped"
    if now >= program.end:
        return "finished"
    return program.phase_of(current)


def _sized(run: Run, minute: int) -> dict[str, float | None] | None:
    """The capacities that sized `minute`'s journeys, live or as calibrated."""
    if not isinstance(run.chooser, JourneyChooser) or minute not in run.chooser.sized:
        return None
    return run.chooser.sized[minute].as_status()


def demo_status(demo: Run | None, baseline: Run | None, now: float,
                settings: Settings) -> dict[str, Any]:
    out = _idle(baseline, settings)
    if demo is None or not isinstance(demo.program, DemoProgram):
        return out
    program, stats = demo.program, demo.stats
    horizon = min(now, program.end, demo.stopped_at or now)
    current = program.minute_of(horizon) if now >= program.start else None
    over = horizon >= program.end
    first = program.minute_of(demo.joined_at)
    records: list[dict[str, Any]] = []
    completed = -1
    if current is not None:
        completed = program.duration_minutes - 1 if over else current - 1
        for minute in range(first, current + 1):
            record = stats.record(minute, program.phase_of(minute), program.target_rpm(minute))
            records.append({**record, "complete": minute <= completed, "capacity": _sized(demo, minute)})
    last = next((r for r in reversed(records) if r["complete"]), None)
    alert = stats.alert(program.scenario.alert, completed)
    out.update({
        "running": demo.active,
        "scenario": program.name,
        "minute": current,
        "phase": _phase(demo, program, now, current),
        "minute_seconds": program.minute_seconds,
        "target_rpm": round(program.target_rpm(current if current is not None else 0), 2),
        "achieved_rpm": last["achieved_rpm"] if last else None,
        "requests": stats.requests,
        "errors": stats.errors,
        "rejections": stats.rejections,
        "error_rate": round(stats.errors / stats.requests, 4) if stats.requests else 0.0,
        "p95_ms": last["p95_ms"] if last else None,
        "checkout_attempts": stats.checkout_attempts,
        "checkout_failures": stats.checkout_failures,
        "alert": {"fired": alert["fired"], "first_minute": alert["first_minute"]},
        "minutes": records,
        "start_timestamp": program.start,
        "duration_minutes": program.duration_minutes,
        "peak_rpm": program.peak_rpm,
        "joined_minute": first,
        "journeys": stats.journeys,
        "cancelled_journeys": stats.cancelled_journeys,
        # Journeys launched and not yet finished: a minute's figures are final once none of
        # its journeys is in flight (a checkout may wait on a row lock for tens of seconds).
        "in_flight_journeys": len(demo.journeys),
        # Requests a minute will count that have not answered: the last minute is final at 0,
        # while journeys may still be taking steps after the timeline, which count nowhere.
        "in_flight_counted_requests": stats.counted_in_flight,
        "max_schedule_lag_ms": round(stats.max_schedule_lag_ms, 1),
        # The capacities the traffic is sized from now: measured live while saturated, else
        # as calibrated (this replica's view, scaled to all replicas).
        "capacity": (demo.chooser.live.as_status()
                     if isinstance(demo.chooser, JourneyChooser) and demo.chooser.live else None),
    })
    return out
