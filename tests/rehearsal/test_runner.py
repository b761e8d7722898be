"""The runner's own arithmetic (the full run is tests/rehearsal/test_rehearsal.py)."""

from __future__ import annotations

from rehearsal.runner import MIN_LEAD_SECONDS, UNMEASURED_LEAD_SECONDS, lead_seconds, ready_after_joined_minute
from scenarios.calibration import Calibration


def test_readiness_is_timed_from_the_minute_the_run_joins() -> None:
    # Stamped 9 s ahead of minute 0: ready 3 s after the stamp is 6 s early.
    assert ready_after_joined_minute(103.0, 109.0, 0, 10.0) == -6.0
    # Joining at minute 27 stamps minute 0 270 s in the past: minute 27 opens 9 s after the stamp.
    stamp = 1000.0
    start = stamp + 9.0 - 27 * 10.0
    assert ready_after_joined_minute(stamp + 3.0, start, 27, 10.0) == -6.0
    assert ready_after_joined_minute(stamp + 12.5, start, 27, 10.0) == 3.5


def test_the_lead_grows_with_the_services_start_calibration_timed() -> None:
    def lead(start_s: float) -> float:
        return lead_seconds(Calibration(products=1, catalog_capacity_qps=1.0, lock_throughput_per_s=1.0,
                                        services_start_s=start_s))

    assert lead(2.0) == 7.5  # four services on the cores two took 2.0 s on, with margin
    assert lead(5.0) == 16.5  # a slow machine gets a longer lead, not a late generator
    assert lead(0.5) == MIN_LEAD_SECONDS
    assert lead(0.0) == UNMEASURED_LEAD_SECONDS  # an older calibration.json
