"""The schedule, the deterministic choices and the statistics, without a network."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import pytest

from scenarios.blackfriday import BLACKFRIDAY
from scenarios.calibration import Calibration
from scenarios.intensity import intensity
from scenarios.model import Stage
from services.load_generator.choices import Diffuser, JourneyChooser, SmoothRoundRobin
from services.load_generator.programs import Arrival, BaselineProgram, DemoProgram
from services.load_generator.stats import Kind, RunStats

START = 1_000_000.0


def program(ms: float = 10, peak: float = 120, **kw: object) -> DemoProgram:
    return DemoProgram(BLACKFRIDAY, START, ms, 30, peak, **kw)  # type: ignore[arg-type]


def per_minute(p: DemoProgram) -> Counter[int]:
    return Counter(math.floor((a.at - p.start) / p.minute_seconds) for a in p.arrivals(0))


@pytest.mark.parametrize("ms", [2, 10, 60])
def test_each_minute_gets_its_target_count_within_one_journey(ms: float) -> None:
    p = program(ms)
    counts = per_minute(p)
    for minute in range(30):
        expected = p.target_rpm(minute) * ms / 60
        assert abs(counts[minute] - expected) < 1, (minute, counts[minute], expected)
    assert sum(counts.values()) == round(sum(p.target_rpm(m) for m in range(30)) * ms / 60)


def test_plan_curve_is_the_seeds_ramp_and_peak() -> None:
    p = program(60)
    assert p.target_rpm(0) == pytest.approx(34.5)       # average of 30 -> 39 over minute 0
    assert p.target_rpm(12) == pytest.approx(120)
    assert program(60, peak=60).target_rpm(12) == pytest.approx(60)  # peak scales the curve


def test_arrivals_are_evenly_spaced_at_a_constant_rate() -> None:
    p = program(60)
    gaps = [b.at - a.at for a, b in zip(list(p.arrivals(0)), list(p.arrivals(0))[1:],
                                          strict=False)
            if a.minute is not None and a.minute >= 11 and b.minute is not None and b.minute < 29]
    assert gaps and max(gaps) == pytest.approx(0.5) and min(gaps) == pytest.approx(0.5)


def test_arrival_minutes_label_their_own_minute() -> None:
    p = program(10)
    for a in p.arrivals(0):
        assert a.minute == math.floor((a.at - START) / 10)


def test_late_join_starts_at_the_current_point_of_the_schedule() -> None:
    p = program(10)
    joined = list(p.arrivals(not_before=START + 123.0))
    full = [a for a in p.arrivals(0) if a.at >= START + 123.0]
    assert joined == full and joined[0].minute == 12


def test_replicas_split_the_rate_and_interleave() -> None:
    whole = list(program(10).arrivals(0))
    halves = [list(program(10, replicas=2, replica_index=i).arrivals(0)) for i in (0, 1)]
    assert abs(len(halves[0]) - len(whole) / 2) <= 1 and abs(len(halves[1]) - len(whole) / 2) <= 1
    merged = sorted(a.at for h in halves for a in h)
    assert len(set(merged)) == len(merged)  # no two replicas start a journey at the same instant
    assert abs(len(merged) - len(whole)) <= 1


def test_baseline_is_a_steady_low_rate() -> None:
    b = BaselineProgram(BLACKFRIDAY, START)
    it = b.arrivals(not_before=START + 100)
    first = [next(it) for _ in range(4)]
    assert first[0].at >= START + 100 and first[0].minute is None
    assert [round(y.at - x.at, 6) for x, y in zip(first, first[1:], strict=False)] == [5.0] * 3
    assert b.moment(START).labels == {"demo.phase": "baseline"}


def test_moment_labels_spans_with_demo_minute_and_phase() -> None:
    p = program(10)
    assert p.moment(START + 215).labels == {"demo.minute": 21, "demo.phase": "pool_exhaustion"}
    assert p.moment(START + 215).stage.name == "checkout_rush"


def test_smooth_round_robin_follows_the_mix_evenly() -> None:
    rr = SmoothRoundRobin()
    mix = BLACKFRIDAY.traffic.stage_at(0).mix.shares()
    picks = [rr.pick(mix) for _ in range(20)]
    assert Counter(picks) == {"browse_only": 12, "browse_and_cart": 5, "full_checkout": 3}
    assert "full_checkout" in picks[:8]  # interleaved, not in runs


def test_smooth_round_robin_rejects_all_zero_weights() -> None:
    with pytest.raises(ValueError, match="positive"):
        SmoothRoundRobin().pick({"browse_only": 0.0})


@pytest.mark.parametrize(("value", "expected"), [
    (1.5, [1, 2, 1, 2]), (0.4, [0, 0, 1, 0, 1]), (2.0, [2, 2, 2]), (0.0, [0, 0]),
])
def test_diffusion_spreads_fractional_counts(value: float, expected: list[int]) -> None:
    d = Diffuser()
    assert [d.take(value) for _ in expected] == expected


def test_chooser_places_doorbuster_orders_only_in_the_rush() -> None:
    cal = Calibration(products=100_000, catalog_capacity_qps=4.0, lock_throughput_per_s=1.5)
    chooser = JourneyChooser(cal)
    p = program(10)
    rush = [chooser.choose(Arrival(i, START + 205 + i, 20), p.moment(START + 205)) for i in range(200)]
    checkouts = [s for s in rush if s.kind == "full_checkout"]
    assert checkouts and all(s.doorbuster_slots is not None for s in checkouts)
    expected = intensity(BLACKFRIDAY.traffic.stage_at(20), 120, cal)
    placed = sum(len(s.doorbuster_slots or ()) for s in checkouts)
    assert abs(placed - expected.doorbuster_checkouts * len(checkouts)) < 1
    pages = sum(len(s.listing_slots) for s in rush)
    assert abs(pages - expected.catalog_pages * len(rush)) < 1
    assert all(s.doorbuster_slots is None for s in rush if s.kind != "full_checkout")
    quiet = JourneyChooser(cal).choose(Arrival(0, START, 0), p.moment(START))
    assert quiet.doorbuster_slots is None and len(quiet.listing_slots) == 1


def test_the_sale_opens_with_its_burst_once_and_only_when_seen_opening() -> None:
    cal = Calibration(products=100_000, catalog_capacity_qps=8.0, lock_throughput_per_s=1.5)
    sale = Stage(15, "open_sale", BLACKFRIDAY.traffic.stages[1].mix, catalog_overload=1.05, opening_burst=1.5)
    bursting = replace(BLACKFRIDAY, traffic=replace(BLACKFRIDAY.traffic, stages=(BLACKFRIDAY.traffic.stages[0], sale)))
    p = DemoProgram(bursting, START, 10, 30, 120)
    opened = START + 150  # minute 15 at 10 s per minute
    steady = intensity(sale, 120, cal).catalog_pages
    chooser = JourneyChooser(cal)
    first, second = (chooser.choose(Arrival(i, opened + 0.25 + i / 2, 15), p.moment(opened + 0.25 + i / 2))
                     for i in range(2))
    burst = round((sale.opening_burst or 0) * 8.0)
    assert burst >= 10 and len(first.listing_slots) >= burst + int(steady)
    assert len(second.listing_slots) <= int(steady) + 1
    late = JourneyChooser(cal).choose(Arrival(0, opened + 30, 18), p.moment(opened + 30))
    assert len(late.listing_slots) <= int(steady) + 1  # joined after the sale opened: no burst


def test_chooser_without_calibration_keeps_quiet_journeys() -> None:
    chooser = JourneyChooser(None)
    p = program(10)
    specs = [chooser.choose(Arrival(i, START + 250, 25), p.moment(START + 250)) for i in range(30)]
    assert all(len(s.listing_slots) == 1 and s.doorbuster_slots is None for s in specs)


def test_stats_count_errors_apart_from_business_answers() -> None:
    stats = RunStats(minute_seconds=10)
    stats.journey_started(3, 0.0)
    stats.request_done(3, Kind.CATALOG_LISTING, 200, 100.0)
    stats.request_done(3, Kind.CATALOG_LISTING, 503, 3000.0)
    stats.request_done(3, Kind.CHECKOUT, 409, 50.0)
    stats.request_done(3, Kind.CHECKOUT, None, 30000.0)
    stats.request_done(3, Kind.CHECKOUT, 201, 80.0)
    r = stats.record(3, "ramp", 60.0)
    assert r["requests"] == 5 and r["errors"] == 2 and r["rejections"] == 1
    assert r["error_rate"] == 0.4
    assert r["checkout_attempts"] == 3 and r["checkout_failures"] == 2
    assert r["catalog_p95_ms"] == 3000.0 and r["p95_ms"] == 30000.0
    assert r["achieved_rpm"] == 6.0  # one journey in a 10-second minute


@pytest.mark.parametrize("ms", [6, 10, 60])
def test_go_live_waiters_top_up_what_the_minute_cannot_queue(ms: float) -> None:
    """Waiters plus the rush's first-minute excess fill the checkout pool (its connections and
    what its timeout lets wait); at real-time minutes the excess alone does, and nobody waits."""
    cal = Calibration(products=1_000_000, catalog_capacity_qps=12.0, lock_throughput_per_s=0.75)
    rush = BLACKFRIDAY.traffic.stage_at(20)
    p = program(ms)
    pool, timeout = p.moment(START).pool
    absorbed = pool + timeout * cal.lock_throughput_per_s
    excess = (rush.checkout_overload - 1) * cal.lock_throughput_per_s * ms  # type: ignore[operator]
    chooser = JourneyChooser(cal)
    arrivals = [a for a in p.arrivals(0) if a.minute is not None and a.minute < 20]
    waiters = sum(chooser.choose(a, p.moment(a.at)).wait_until is not None for a in arrivals)
    assert abs(waiters - max(0.0, absorbed - excess)) <= 1, (waiters, absorbed, excess)


def test_requests_after_the_timeline_count_in_no_minute() -> None:
    p = program(10)
    assert p.request_minute(p.end - 0.01) == 29 and p.minute_of(p.end + 5) == 29
    assert p.request_minute(p.end) is None and p.request_minute(p.end + 5) is None
    stats = RunStats(10)
    stats.request_done(p.request_minute(p.end + 1), Kind.CATALOG_LISTING, 200, 10.0)
    assert stats.catalog_listings == 1 and 29 not in stats.minutes
