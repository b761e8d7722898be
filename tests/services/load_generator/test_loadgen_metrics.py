"""The load generator's GET /metrics and its timeline markers on a real run: a whole 30-minute
timeline at quarter-second minutes against the fake storefront."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from rehearsal.processes import wait_for
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.metrics import DEMO_MARKER, DEMO_MINUTE, LOADGEN_JOURNEYS, LOADGEN_TARGET_RPM, prometheus_name
from scenarios.model import JOURNEYS
from services.load_generator.markers import planned
from tests.services.load_generator.conftest import FakeStorefront, LoadGenFactory

MS = 0.25
NAMES = {"journeys": prometheus_name(LOADGEN_JOURNEYS, counter=True),
         "target": prometheus_name(LOADGEN_TARGET_RPM), "minute": prometheus_name(DEMO_MINUTE),
         "marker": prometheus_name(DEMO_MARKER, counter=True)}


def samples(text: str, family: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(rf"^{family}(\{{.*\}}) (\S+)$", text, re.M)}


def test_the_names_are_the_ones_the_dashboard_reads() -> None:
    assert NAMES == {"journeys": "loadgen_journeys_total", "target": "loadgen_target_rpm",
                     "minute": "demo_minute", "marker": "demo_marker_total"}


@pytest.mark.timeout(90)
def test_a_played_timeline_is_marked_at_its_minutes_and_counted_on_metrics(
    storefront: FakeStorefront, start_loadgen: LoadGenFactory, capsys: pytest.CaptureFixture[str],
) -> None:
    gen = start_loadgen(loadgen_think_time_seconds=0.0)
    idle = httpx.get(f"{gen.url}/metrics", timeout=10).text
    assert samples(idle, NAMES["minute"]) == {'{service_name="load-generator"}': -1.0}
    with gen.client() as c:
        c.post("/admin/start-demo", json={"scenario": "blackfriday", "minute_seconds": MS,
                                          "peak_rpm": 600}).raise_for_status()
    time.sleep(12 * MS)
    status, text = gen.status(), httpx.get(f"{gen.url}/metrics", timeout=10).text
    minute = next(iter(samples(text, NAMES["minute"]).values()))
    assert status["minute"] <= minute <= status["minute"] + 1
    target = next(iter(samples(text, NAMES["target"]).values()))
    program = gen.controller.demo.program  # type: ignore[union-attr]
    assert target == pytest.approx(program.target_rpm(int(minute)), abs=0.01)  # type: ignore[attr-defined]
    wait_for(lambda: gen.status()["phase"] == "finished" and not gen.status()["in_flight_journeys"],
             60, what="the demo finishing")
    status, text = gen.status(), httpx.get(f"{gen.url}/metrics", timeout=10).text
    start = status["start_timestamp"]
    expected = planned(BLACKFRIDAY, 30)

    spans = [s for s in gen.finished_spans() if s.name == "demo.marker"]
    assert len(spans) == len(expected)  # no alert: nothing failed
    for marker, span in zip(expected, sorted(spans, key=lambda s: s.start_time or 0), strict=True):
        attributes = dict(span.attributes or {})
        assert (attributes["demo.kind"], attributes["demo.step"], attributes["demo.minute"]) == (
            marker.kind, marker.step, marker.minute)
        lag = (span.start_time or 0) / 1e9 - (start + marker.minute * MS)
        assert 0 <= lag < 0.2, f"{marker} came {lag:.3f} s after its minute"

    markers = samples(text, NAMES["marker"])
    for marker in expected:
        key = (f'{{demo_kind="{marker.kind}",demo_phase="{marker.phase}",demo_step="{marker.step}",'
               f'service_name="load-generator"}}')
        assert markers[key] == 1
    journeys = samples(text, NAMES["journeys"])
    assert sum(journeys.values()) == status["journeys"]
    assert {re.search(r'journey="(\w+)"', k).group(1) for k in journeys} <= set(JOURNEYS)  # type: ignore[union-attr]
    assert samples(text, NAMES["minute"]) == {'{service_name="load-generator"}': -1.0}

    logs = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"demo_marker"' in x]
    assert [(x["demo.kind"], x["demo.minute"], x["demo.scenario"]) for x in logs] == [
        (m.kind, m.minute, "blackfriday") for m in expected]
