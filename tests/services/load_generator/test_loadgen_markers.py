"""Timeline markers: each phase, actor action (traffic stage) and our alert's first firing, at the
scenario's minutes, told as a span, a log line and the demo.marker counter."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from scenarios.blackfriday import BLACKFRIDAY
from services.load_generator.markers import Marker, MarkerPlayer, planned
from services.load_generator.programs import DemoProgram
from services.load_generator.stats import Kind, RunStats
from services.shared.exposition import scrape
from services.shared.logging import configure_logging, get_logger
from services.shared.markers import emit_marker
from services.shared.telemetry import build_telemetry

START = 1_000_000.0
MS = 10.0


class FakeClock:
    """A clock that only moves when the player sleeps."""

    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += seconds


def test_the_planned_markers_are_the_scenarios_phases_and_stages_at_their_minutes() -> None:
    markers = planned(BLACKFRIDAY, BLACKFRIDAY.duration_minutes)
    phases = [(m.minute, m.step) for m in markers if m.kind == "phase"]
    actors = [(m.minute, m.step) for m in markers if m.kind == "actor"]
    assert phases == [(p.start_minute, p.name) for p in BLACKFRIDAY.phases]
    assert actors == [(s.from_minute, s.name) for s in BLACKFRIDAY.traffic.stages[1:]]
    assert all(m.phase == BLACKFRIDAY.phase_at(m.minute).name for m in markers)
    assert [m.minute for m in markers] == sorted(m.minute for m in markers)
    assert all(m.minute < 12 for m in planned(BLACKFRIDAY, 12))  # a shortened timeline


def _failing_stats(from_minute: int, to_minute: int) -> RunStats:
    """Observations that meet the alert rule in every minute of the range, quiet before it."""
    stats = RunStats(MS)
    rule = BLACKFRIDAY.alert
    for minute in range(0, to_minute + 1):
        bad = minute >= from_minute
        for i in range(10):
            stats.request_done(minute, Kind.CATALOG_LISTING, 200, rule.catalog_p95_ms_gt * (2 if bad else 0.1))
            stats.request_done(minute, Kind.CHECKOUT, 503 if bad and i < 5 else 201, 50.0)
    return stats


def _play(stats: RunStats, joined_at: float) -> list[tuple[float, Marker]]:
    clock = FakeClock(joined_at)
    seen: list[tuple[float, Marker]] = []
    program = DemoProgram(BLACKFRIDAY, START, MS, BLACKFRIDAY.duration_minutes, 120)
    player = MarkerPlayer(program, stats, lambda m: seen.append((clock.now(), m)), clock, clock.sleep)  # type: ignore[arg-type]
    asyncio.run(player.play(joined_at))
    return seen


def test_each_marker_comes_at_its_minute_and_the_alert_once_when_our_evaluation_first_fires() -> None:
    expected_alert = BLACKFRIDAY.alert_event()
    stats = _failing_stats(20, 29)
    first = stats.alert(BLACKFRIDAY.alert, 29)["first_minute"]  # as /admin/demo-status judges
    seen = _play(stats, START)
    timed = [(m.kind, m.step, m.minute, at) for at, m in seen]
    for marker in planned(BLACKFRIDAY, 30):
        assert (marker.kind, marker.step, marker.minute, START + marker.minute * MS) in timed
    alerts = [(at, m) for at, m in seen if m.kind == "alert"]
    assert len(alerts) == 1
    at, alert = alerts[0]
    # Told as soon as the minute that fired it is complete, carrying that minute.
    assert first is not None and alert.minute == first and at == START + (first + 1) * MS
    assert alert.step == BLACKFRIDAY.alert.name and alert.phase == BLACKFRIDAY.phase_at(first).name
    assert expected_alert.earliest <= alert.minute <= expected_alert.latest


def test_a_generator_joining_late_marks_from_its_minute_on_and_no_alert_without_failures() -> None:
    seen = _play(RunStats(MS), START + 17.5 * MS)
    assert [(m.minute, m.step) for _, m in seen] == [
        (m.minute, m.step) for m in planned(BLACKFRIDAY, 30) if m.minute >= 17]
    assert all(m.kind != "alert" for _, m in seen)


def test_emit_marker_tells_a_root_span_a_log_line_and_the_counter(capsys: pytest.CaptureFixture[str]) -> None:
    exporter = InMemorySpanExporter()
    telemetry = build_telemetry("applier", span_processors=[SimpleSpanProcessor(exporter)])
    configure_logging("applier")
    emit_marker(telemetry, get_logger("test"), "blackfriday", "break.sql", "fault", 0, "ramp")
    emit_marker(telemetry, get_logger("test"), "blackfriday", "break.sql", "fault", 0, "ramp")
    with pytest.raises(ValueError, match="allowed: phase, actor, fault, alert"):
        emit_marker(telemetry, get_logger("test"), "blackfriday", "x", "oops", 0, "ramp")
    span = exporter.get_finished_spans()[0]
    wanted: dict[str, Any] = {"demo.minute": 0, "demo.phase": "ramp", "demo.scenario": "blackfriday",
                              "demo.step": "break.sql", "demo.kind": "fault"}
    assert span.name == "demo.marker" and span.parent is None and dict(span.attributes or {}) == wanted
    assert span.events[0].name == "demo.fault" and dict(span.events[0].attributes or {}) == wanted
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "demo_marker" in x]
    assert lines[0]["event"] == "demo_marker" and {k: lines[0][k] for k in wanted} == wanted
    assert lines[0]["trace_id"] == format(span.context.trace_id, "032x")
    text = scrape(telemetry.scrape_reader)
    assert ('demo_marker_total{demo_kind="fault",demo_phase="ramp",demo_step="break.sql",'
            'service_name="applier"} 2') in text
    telemetry.shutdown()
