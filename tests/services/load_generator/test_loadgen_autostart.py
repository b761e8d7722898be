"""Auto-start from the environment, aligned to DEMO_START_TIMESTAMP, and the hand-back to the
baseline when the scenario is over."""

from __future__ import annotations

import time

from rehearsal.processes import wait_for
from tests.services.load_generator.conftest import LoadGenFactory

MS = 1.0


def test_late_start_joins_the_schedule_at_the_current_minute(start_loadgen: LoadGenFactory) -> None:
    start = time.time() - 5.5 * MS
    gen = start_loadgen(demo_mode="blackfriday", demo_start_timestamp=start,
                        demo_minute_seconds=MS, loadgen_duration_minutes=8, loadgen_peak_rpm=600,
                        loadgen_baseline=True, loadgen_think_time_seconds=0.1)
    status = gen.status()
    assert status["running"] is True and status["scenario"] == "blackfriday"
    assert status["joined_minute"] == 5 and status["minute"] in (5, 6)
    assert status["start_timestamp"] == start and status["baseline"] == {"running": False}
    wait_for(lambda: gen.status()["phase"] == "finished", timeout=6)
    done = gen.status()
    assert done["running"] is False and [r["minute"] for r in done["minutes"]] == [5, 6, 7]
    # Minute 5 was joined half-way; minutes 6 and 7 are whole, on the ramp scaled by 5
    # (minute 6: 5 * (84 + 93) / 2 = 442.5 RPM, 7.4 journeys in a 1-second minute).
    for record in done["minutes"][1:]:
        assert abs(record["journeys"] - record["target_rpm"] * MS / 60) < 1
    assert done["minutes"][0]["journeys"] < done["minutes"][1]["journeys"]
    # A demo that ends by itself hands back to the baseline.
    assert wait_for(lambda: gen.status()["baseline"]["running"], timeout=3)


def test_future_start_waits_then_begins_at_minute_zero(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen(demo_mode="blackfriday", demo_start_timestamp=time.time() + 1.0,
                        demo_minute_seconds=MS)
    pending = gen.status()
    assert pending["running"] is True and pending["phase"] == "pending"
    assert pending["minute"] is None and pending["minutes"] == []
    assert wait_for(lambda: gen.status()["minute"] == 0, timeout=5)
    assert gen.status()["phase"] == "ramp"


def test_scenario_already_over_sends_the_baseline(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen(demo_mode="blackfriday", demo_start_timestamp=time.time() - 3600,
                        demo_minute_seconds=MS, loadgen_baseline=True)
    status = gen.status()
    assert status["running"] is False and status["phase"] == "baseline"
    assert status["baseline"]["running"] is True


def test_demo_mode_off_ignores_the_timestamp(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen(demo_mode="off", demo_start_timestamp=time.time(), loadgen_baseline=True)
    assert gen.status()["running"] is False and gen.status()["baseline"]["running"] is True
