"""Traffic sized from the capacity measured live: the meter, the chooser's use of it, and the
deal-page watchers as a closed population on real sockets."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable

import pytest

from rehearsal.processes import wait_for
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.calibration import Calibration
from services.load_generator.choices import JourneyChooser
from services.load_generator.programs import Arrival, DemoProgram
from services.load_generator.stats import Kind
from services.load_generator.throughput import Throughput
from tests.services.load_generator.conftest import FakeStorefront, LoadGenFactory

START = 1_000_000.0
CAL = Calibration(products=100_000, catalog_capacity_qps=8.0, lock_throughput_per_s=0.5)


def program(ms: float = 10) -> DemoProgram:
    return DemoProgram(BLACKFRIDAY, START, ms, 30, 120)


def test_the_meter_counts_successes_in_its_window_from_saturation_on() -> None:
    meter = Throughput()
    for i in range(400):  # 10 answers a second for 40 s, every fourth one refused
        meter.record(Kind.CATALOG_LISTING, 200 if i % 4 else 503, START + i / 10)
    meter.record(Kind.OTHER, 200, START + 39.0)
    now = START + 40.0
    assert meter.rate(Kind.CATALOG_LISTING, now, since=START) == pytest.approx(7.5, abs=0.1)
    assert meter.rate(Kind.CATALOG_LISTING, now, since=now - 9) is None  # under half a window
    assert meter.rate(Kind.CATALOG_LISTING, now, since=now - 12) == pytest.approx(7.5, abs=0.2)
    assert meter.rate(Kind.CHECKOUT, now, since=START) == 0.0
    assert meter.turned_away(Kind.CATALOG_LISTING, now, since=START)
    assert not meter.turned_away(Kind.CHECKOUT, now, since=START)
    assert len(meter.done[Kind.CATALOG_LISTING]) <= 160  # older answers are let go


def _crowd_pages(meter: Throughput, at: float, chooser: JourneyChooser) -> float:
    p = program()
    # Arrivals close together, so the meter's window holds the same answers for all of them.
    pages = [len(chooser.choose(Arrival(i, at + i / 100, 24), p.moment(at + i / 100)).listing_slots)
             for i in range(40)]
    return sum(pages) / len(pages)


@pytest.mark.parametrize("live_qps", [4.0, 8.0, 12.0])
def test_the_crowd_is_sized_from_the_listings_answered_live(live_qps: float) -> None:
    """A database half or one and a half times as fast as calibrated gets the crowd's
    overload of what it answers now, not of what it answered at calibration."""
    meter = Throughput()
    chooser = JourneyChooser(CAL, meter=meter)
    p = program()
    sale = START + 150
    chooser.choose(Arrival(0, sale, 15), p.moment(sale))  # the catalog saturated from here
    crowd = START + 235
    for i in range(int(30 * live_qps)):
        meter.record(Kind.CATALOG_LISTING, 200, crowd - 30 + i / live_qps)
    crowd_stage = BLACKFRIDAY.traffic.stage_at(23)
    expected = (crowd_stage.catalog_overload or 0) * live_qps / 2.0  # 120 journeys/min
    assert _crowd_pages(meter, crowd, chooser) == pytest.approx(expected, rel=0.08)
    assert chooser.live is not None and chooser.live.catalog_qps == pytest.approx(live_qps, rel=0.05)


def test_without_a_live_measure_the_calibration_sizes_the_crowd_and_a_broken_catalog_is_not_trusted() -> None:
    p = program()
    fresh = JourneyChooser(CAL, meter=Throughput())  # joined at the crowd: nothing measured yet
    expected = (BLACKFRIDAY.traffic.stage_at(23).catalog_overload or 0) * CAL.catalog_capacity_qps / 2.0
    assert _crowd_pages(fresh.meter, START + 235, fresh) == pytest.approx(expected, rel=0.08)  # type: ignore[arg-type]
    broken = JourneyChooser(CAL, meter=Throughput())
    broken.choose(Arrival(0, START + 150, 15), p.moment(START + 150))
    assert broken.meter is not None
    broken.meter.record(Kind.CATALOG_LISTING, 200, START + 230)  # one listing in 20 s
    pages = _crowd_pages(broken.meter, START + 235, broken)
    assert pages == pytest.approx(expected / 4, rel=0.1)  # the floor of trust, not 0.05/s


def test_the_rush_sizes_doorbuster_orders_from_the_hot_rows_live_throughput() -> None:
    p = program()
    meter = Throughput()
    chooser = JourneyChooser(CAL, meter=meter)
    rush = START + 200
    chooser.choose(Arrival(0, rush, 20), p.moment(rush))
    for i in range(40):  # the hot row lets 1.0 order/s through (twice its calibration), refusing some
        meter.record(Kind.CHECKOUT, 201, rush + 1 + i)
        meter.record(Kind.CHECKOUT, 503, rush + 1.5 + i)
    at = rush + 41
    specs = [chooser.choose(Arrival(i, at + i / 100, 22), p.moment(at + i / 100)) for i in range(100)]
    orders = sum(len(s.doorbuster_slots or ()) for s in specs)
    # 100 journeys are 50 s of arrivals at 120 a minute: orders per second of arrivals.
    stage = BLACKFRIDAY.traffic.stage_at(22)
    assert orders / 50 == pytest.approx((stage.checkout_overload or 0) * 1.0, rel=0.1)


def test_deal_watchers_come_once_with_the_first_shopper_of_the_watched_stretch() -> None:
    p = program()
    chooser = JourneyChooser(CAL, replicas=2, meter=Throughput())
    watchers = [chooser.choose(Arrival(i, START + 150 + i, 15 + i // 10), p.moment(START + 150 + i)).watchers
                for i in range(90)]  # minutes 15 to 23
    pool = BLACKFRIDAY.pool()[0]
    assert watchers[0] == math.ceil((pool + math.ceil(8.0 * 1.0)) / 2) and sum(watchers) == watchers[0]
    late = JourneyChooser(CAL, meter=Throughput()).choose(Arrival(0, START + 215, 21), p.moment(START + 215))
    assert late.watchers == pool + 8  # a generator that joins mid-stretch brings them too
    assert JourneyChooser(None).choose(Arrival(0, START + 160, 16), p.moment(START + 160)).watchers == 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize("latency", [0.4, 0.8])
def test_watchers_are_a_closed_population_that_leaves_with_its_stretch(
    storefront: FakeStorefront, start_loadgen: LoadGenFactory, latency: float,
) -> None:
    """The listings they send follow the storefront's answers (watchers / latency each
    second), not a schedule, and stop when the crowd replaces them."""
    storefront.latency = latency
    gen = start_loadgen(calibration_json=json.dumps(CAL.to_dict()), loadgen_think_time_seconds=0.0)
    ms = 2.0
    start = time.time() - 15 * ms - 0.2  # join as the sale opens; the crowd comes 16 s later
    body = {"scenario": "blackfriday", "duration_minutes": 24, "peak_rpm": 6.0, "minute_seconds": ms,
            "start_timestamp": start}
    with gen.client() as c:
        assert c.post("/admin/start-demo", json=body).status_code == 200
        wait_for(lambda: not gen.status()["running"] and gen.status()["in_flight_journeys"] == 0, timeout=60)
    watchers = BLACKFRIDAY.pool()[0] + 8
    per_second = Counter(math.floor(s.at - start - 15 * ms) for s in storefront.listings())
    # Seconds 2-13 of the watched stretch (16 s): watchers / latency listings a second, give
    # or take the few journeys (6 a minute) and the answers' own overhead.
    steady = [per_second[s] for s in range(2, 14)]
    expected = watchers / latency
    assert 0.75 * expected <= sum(steady) / len(steady) <= 1.1 * expected + 1, (steady, expected)
    # Past the stretch, only the journeys' own listings remain (the last watchers' answers land
    # within one latency of its end).
    after = sum(per_second[s] for s in range(math.ceil(16 + latency + 1), 18))
    assert after <= 3, per_second


def _hot_row_estimate(meter: Throughput) -> tuple[JourneyChooser, DemoProgram, Callable[[float], float | None]]:
    """A chooser, its program, and its live hot-row estimate at a time of the rush (minute 20)."""
    p = program()
    chooser = JourneyChooser(CAL, meter=meter)

    def estimate(at: float) -> float | None:
        chooser.choose(Arrival(0, at, 20), p.moment(at))
        return chooser.live.lock_per_s if chooser.live else None
    return chooser, p, estimate


def test_a_dip_without_refusals_does_not_lower_the_hot_rows_estimate() -> None:
    """Successes while nothing is refused are a floor: the offer they would lower would drain
    the queue, and the next window would measure the lower offer (measured: minutes of the
    rush under capacity after one window's dip)."""
    meter = Throughput()
    _, _, estimate = _hot_row_estimate(meter)
    rush = START + 200

    estimate(rush)
    for i in range(40):  # saturated: 0.8 orders/s through, others refused
        meter.record(Kind.CHECKOUT, 201, rush + i * 1.25)
        meter.record(Kind.CHECKOUT, 503, rush + i * 1.25 + 0.5)
    assert estimate(rush + 50) == pytest.approx(0.8, rel=0.1)
    for i in range(16):  # then a dip, nothing refused: 0.4 orders/s
        meter.record(Kind.CHECKOUT, 201, rush + 51 + i * 2.5)
    assert estimate(rush + 91) == pytest.approx(0.8, rel=0.1)
    for i in range(16):  # a dip with refusals is the capacity falling
        meter.record(Kind.CHECKOUT, 201, rush + 92 + i * 2.5)
        meter.record(Kind.CHECKOUT, 503, rush + 92.5 + i * 2.5)
    assert estimate(rush + 132) == pytest.approx(0.4, rel=0.1)


def test_the_hot_row_is_rated_from_its_first_successes_spacing() -> None:
    meter = Throughput()
    rush = START + 200
    for _ in range(20):  # the go-live burst: 20 orders queue on the hot row at once
        meter.started(Kind.CHECKOUT, rush + 0.1)
    for i in range(4):  # 0.625 orders/s from 1 s after the rush began
        meter.record(Kind.CHECKOUT, 201, rush + 1 + i * 1.6)
    meter.record(Kind.CHECKOUT, 201, rush - 0.5)  # before the rush: not counted
    assert meter.rate(Kind.CHECKOUT, rush + 7, since=rush) is None  # four are too few
    meter.record(Kind.CHECKOUT, 201, rush + 7.4)
    assert meter.rate(Kind.CHECKOUT, rush + 8, since=rush) == pytest.approx(0.625)
    assert not meter.windowed(Kind.CHECKOUT, rush + 8, since=rush)
    for i in range(60):  # the catalog is not rated early, however many answers
        meter.record(Kind.CATALOG_LISTING, 200, rush + i / 10)
    assert meter.rate(Kind.CATALOG_LISTING, rush + 8, since=rush) is None


def test_the_rush_takes_the_live_rate_in_its_first_minute_and_the_window_replaces_it() -> None:
    """Calibrated 0.5/s, the hot row passes 1.0/s: the doorbuster orders are sized from 1.0
    within the rush's first 10-s minute, not two minutes later; the first window's count then
    replaces that early figure, even lower and nothing refused (it is no floor)."""
    meter = Throughput()
    chooser, p, estimate = _hot_row_estimate(meter)
    rush = START + 200

    assert estimate(rush) is None
    for _ in range(20):  # the go-live burst queues on the hot row
        meter.started(Kind.CHECKOUT, rush + 0.1)
    for i in range(6):
        meter.record(Kind.CHECKOUT, 201, rush + 1 + i)
    assert estimate(rush + 7) == pytest.approx(1.0)
    specs = [chooser.choose(Arrival(i, rush + 7 + i / 100, 20), p.moment(rush + 7 + i / 100)) for i in range(100)]
    orders = sum(len(s.doorbuster_slots or ()) for s in specs)
    assert orders / 50 == pytest.approx((BLACKFRIDAY.traffic.stage_at(20).checkout_overload or 0) * 1.0, rel=0.1)
    for i in range(8):  # then 0.6/s to half the window, nothing refused
        meter.record(Kind.CHECKOUT, 201, rush + 7 + (i + 1) / 0.6)
    assert estimate(rush + 21) == pytest.approx(14 / 21)  # all 14 over the 21 s since the rush began


def test_answers_that_keep_up_with_their_offer_are_no_early_capacity() -> None:
    """Orders answered as fast as they are sent are spaced as the offer is: no queue, no rate."""
    meter = Throughput()
    rush = START + 200
    for i in range(8):
        meter.started(Kind.CHECKOUT, rush + i)
        meter.record(Kind.CHECKOUT, 201, rush + i + 0.05)
    assert meter.rate(Kind.CHECKOUT, rush + 9, since=rush) is None
    for _ in range(10):  # then a burst the hot row queues
        meter.started(Kind.CHECKOUT, rush + 9)
    assert meter.rate(Kind.CHECKOUT, rush + 9.5, since=rush) == pytest.approx(1.0)


def test_the_go_live_burst_counts_although_it_is_sent_before_the_rushs_first_arrival() -> None:
    """The shoppers who waited send their orders at the go-live itself; the rush's first new
    arrival comes up to one arrival interval later. Their orders are the queue the early rate
    needs: counted from the first arrival, they were not, and the rush was sized from the
    calibration for two demo minutes (measured: calibrated 0.43/s, live 1.0/s)."""
    meter = Throughput()
    chooser, p, estimate = _hot_row_estimate(meter)
    rush = START + 200
    chooser.choose(Arrival(0, rush - 0.4, 19), p.moment(rush - 0.4))  # running before the rush
    for _ in range(20):
        meter.started(Kind.CHECKOUT, rush + 0.01)
    assert estimate(rush + 0.4) is None
    for i in range(6):
        meter.record(Kind.CHECKOUT, 201, rush + 1 + i)
    assert estimate(rush + 7) == pytest.approx(1.0)


def test_a_generator_that_joins_mid_rush_counts_from_its_own_first_arrival() -> None:
    """Nothing it sent before it ran: a window counted from the rush's opening would divide
    its few answers by seconds it did not see."""
    meter = Throughput()
    _, _, estimate = _hot_row_estimate(meter)
    joined = START + 215
    estimate(joined)
    for i in range(12):  # 0.5/s through, others refused
        meter.record(Kind.CHECKOUT, 201, joined + i * 2)
        meter.record(Kind.CHECKOUT, 503, joined + i * 2 + 1)
    assert estimate(joined + 24) == pytest.approx(0.5, rel=0.1)
