"""The runner's own arithmetic (the full run is tests/rehearsal/test_rehearsal.py)."""

from __future__ import annotations

from rehearsal.runner import ready_after_joined_minute


def test_readiness_is_timed_from_the_minute_the_run_joins() -> None:
    # Stamped 9 s ahead of minute 0: ready 3 s after the stamp is 6 s early.
    assert ready_after_joined_minute(103.0, 109.0, 0, 10.0) == -6.0
    # Joining at minute 27 stamps minute 0 270 s in the past: minute 27 opens 9 s after the stamp.
    stamp = 1000.0
    start = stamp + 9.0 - 27 * 10.0
    assert ready_after_joined_minute(stamp + 3.0, start, 27, 10.0) == -6.0
    assert ready_after_joined_minute(stamp + 12.5, start, 27, 10.0) == 3.5
