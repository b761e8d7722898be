"""The flow alert over sliding windows of completed demo minutes, held for a minute."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.alert import MinuteObservation, evaluate_alert, percentile
from scenarios.blackfriday import BLACKFRIDAY

RULE = BLACKFRIDAY.alert  # 2-minute window held 1 minute, checkout errors > 20 %, catalog p95 > 2000 ms
WINDOWS_ALONE = dataclasses.replace(RULE, hold_minutes=0)


def healthy(minute: int) -> MinuteObservation:
    return MinuteObservation(minute, 10, 0, [100.0] * 20)


def slow_catalog(minute: int, failures: int = 0) -> MinuteObservation:
    return MinuteObservation(minute, 10, failures, [2600.0] * 20)


def test_quiet_run_never_fires() -> None:
    result = evaluate_alert(RULE, [healthy(m) for m in range(30)])
    assert result["fired"] is False and result["first_minute"] is None
    assert len(result["windows"]) == 29
    assert result["windows"][0]["start_minute"] == 0 and result["windows"][0]["end_minute"] == 1


def test_fires_once_both_conditions_held_at_the_ends_of_two_minutes_in_a_row() -> None:
    minutes = [healthy(m) for m in range(15)] + [slow_catalog(m) for m in range(15, 21)]
    minutes += [slow_catalog(m, failures=5) for m in range(21, 30)]
    result = evaluate_alert(RULE, minutes)
    # Window 20-21 holds 5 failures in 20 attempts: 25 % > 20 %; window 21-22 still breaches.
    assert result["fired"] is True and result["first_minute"] == 22
    w = next(w for w in result["windows"] if w["end_minute"] == 21)
    assert w["breached"] and w["checkout_error_rate"] == 0.25 and w["catalog_p95_ms"] == 2600.0
    assert evaluate_alert(WINDOWS_ALONE, minutes)["first_minute"] == 21


def test_the_rushs_first_burst_alone_does_not_fire() -> None:
    # A rehearsal saw this: minute 19 held 2 checkouts, the rush's first minute failed 3 of 12,
    # and a window judged alone fired in minute 20. The next minute's checkouts dilute it.
    minutes = [MinuteObservation(m, 2, 0, [3000.0] * 10) for m in range(15, 20)]
    minutes += [MinuteObservation(20, 12, 3, [3000.0] * 10), MinuteObservation(21, 12, 1, [3000.0] * 10)]
    assert evaluate_alert(WINDOWS_ALONE, minutes)["first_minute"] == 20
    result = evaluate_alert(RULE, minutes)
    assert [w["breached"] for w in result["windows"]][-2:] == [True, False] and result["fired"] is False


def test_slow_catalog_alone_or_checkout_errors_alone_do_not_fire() -> None:
    slow_only = [slow_catalog(m) for m in range(10)]
    errors_only = [MinuteObservation(m, 10, 9, [100.0]) for m in range(10)]
    assert evaluate_alert(RULE, slow_only)["fired"] is False
    assert evaluate_alert(RULE, errors_only)["fired"] is False


def test_thresholds_are_strict() -> None:
    at_threshold = [MinuteObservation(m, 10, 2, [2000.0] * 5) for m in range(4)]
    assert evaluate_alert(RULE, at_threshold)["fired"] is False


def test_p95_is_taken_over_the_whole_window_not_averaged() -> None:
    # Two slow samples in minute 0, 98 fast ones in minute 1: the mean of the per-minute p95s
    # is (9000 + 100) / 2 and would fire; the window's p95 over all 100 latencies is 100.
    m0 = MinuteObservation(0, 10, 5, [9000.0] * 2)
    m1 = MinuteObservation(1, 10, 5, [100.0] * 98)
    result = evaluate_alert(RULE, [m0, m1])
    assert result["windows"][0]["catalog_p95_ms"] == 100.0 and result["windows"][0]["catalog_samples"] == 100
    assert result["fired"] is False


def test_checkout_rate_is_pooled_over_the_window() -> None:
    # 1 of 2 failing (50 %) then 0 of 18: pooled 1/20 = 5 %, not the 25 % mean of the rates.
    result = evaluate_alert(RULE, [MinuteObservation(0, 2, 1, [3000.0]),
                                   MinuteObservation(1, 18, 0, [3000.0])])
    assert result["windows"][0]["checkout_error_rate"] == 0.05 and result["fired"] is False


def test_window_without_checkouts_or_latencies_cannot_fire() -> None:
    no_checkouts = evaluate_alert(RULE, [MinuteObservation(0, 0, 0, [9000.0]),
                                         MinuteObservation(1, 0, 0, [9000.0])])
    no_latencies = evaluate_alert(RULE, [MinuteObservation(2, 5, 5, []),
                                         MinuteObservation(3, 5, 5, [])])
    assert no_checkouts["fired"] is False and no_latencies["fired"] is False
    assert no_checkouts["windows"][0]["checkout_error_rate"] is None
    assert no_latencies["windows"][0]["catalog_p95_ms"] is None


def test_a_window_pools_checkouts_and_latencies_from_different_minutes() -> None:
    # Slow catalog in minute 1 only, failing checkouts in minute 2 only: window 1-2 fires.
    result = evaluate_alert(WINDOWS_ALONE, [MinuteObservation(1, 0, 0, [9000.0]),
                                            MinuteObservation(2, 5, 5, [])])
    assert result["first_minute"] == 2


def test_no_minutes_or_fewer_than_a_window_give_no_windows() -> None:
    assert evaluate_alert(RULE, []) == {"fired": False, "first_minute": None, "windows": []}
    assert evaluate_alert(RULE, [slow_catalog(20, failures=10)])["windows"] == []


def test_missing_minutes_count_as_empty_and_order_does_not_matter() -> None:
    result = evaluate_alert(RULE, [slow_catalog(23, 9), slow_catalog(20, 9)])
    assert [(w["start_minute"], w["end_minute"]) for w in result["windows"]] == [
        (20, 21), (21, 22), (22, 23)]
    assert [w["breached"] for w in result["windows"]] == [True, False, True]
    assert result["first_minute"] is None  # never two breaches in a row
    assert evaluate_alert(WINDOWS_ALONE, [slow_catalog(23, 9), slow_catalog(20, 9)])["first_minute"] == 21


def test_one_minute_window_judges_each_minute_alone() -> None:
    rule = dataclasses.replace(RULE, window_minutes=1, hold_minutes=0)
    result = evaluate_alert(rule, [healthy(0), slow_catalog(1, 3)])
    assert result["first_minute"] == 1 and len(result["windows"]) == 2


@pytest.mark.parametrize(("minutes", "message"), [
    ([healthy(3), healthy(3)], "minute 3 appears twice"),
    ([MinuteObservation(-1)], "negative"),
    ([MinuteObservation(2, 3, 4)], "4 checkout failures exceed 3 attempts"),
    ([MinuteObservation(2, -1, 0)], "must not be negative"),
])
def test_inconsistent_observations_are_named(minutes: list[MinuteObservation], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_alert(RULE, minutes)


def test_window_of_zero_minutes_or_a_negative_hold_is_rejected() -> None:
    with pytest.raises(ValueError, match="window_minutes must be at least 1"):
        evaluate_alert(dataclasses.replace(RULE, window_minutes=0), [healthy(0)])
    with pytest.raises(ValueError, match="hold_minutes at least 0"):
        evaluate_alert(dataclasses.replace(RULE, hold_minutes=-1), [healthy(0)])


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile(range(1, 101), 95) == 95
    assert percentile(range(1, 101), 100) == 100
    with pytest.raises(ValueError):
        percentile([1.0], 0)


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20), st.lists(
    st.floats(0, 10_000, allow_nan=False), max_size=8)), max_size=12))
def test_first_minute_is_the_first_breach_that_held(raw: list[tuple[int, int, list[float]]]) -> None:
    minutes = [MinuteObservation(i * 2, a, min(a, f), lat) for i, (a, f, lat) in enumerate(raw)]
    result = evaluate_alert(RULE, minutes)
    breached = {w["end_minute"] for w in result["windows"] if w["breached"]}
    held = sorted(m for m in breached if m - 1 in breached)
    assert result["fired"] == bool(held)
    assert result["first_minute"] == (held[0] if held else None)
    for w in result["windows"]:
        assert w["end_minute"] - w["start_minute"] == RULE.window_minutes - 1
        if w["breached"]:
            assert w["checkout_error_rate"] is not None and w["checkout_error_rate"] > 0.2
            assert w["catalog_p95_ms"] is not None and w["catalog_p95_ms"] > 2000
