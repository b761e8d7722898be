"""The catalog's capacity round: one round when the first offer (the database's own listing
rate) is past capacity and not far past it; more only when it keeps up or is far past."""

from __future__ import annotations

from typing import Any

import pytest

from services.calibration import capacity
from services.calibration.capacity import FAR, REFINE, CatalogFit, Probe, Shopper, catalog_fit

PROBE = Probe(catalog_seconds=8.0, catalog_settle_seconds=3.0)
WHO = Shopper("http://catalog", "http://checkout", None, (), ())  # type: ignore[arg-type]


def _rounds(monkeypatch: pytest.MonkeyPatch, capacity_qps: float, leftover: int = 0) -> list[dict[str, Any]]:
    """The rounds catalog_fit runs against a storefront completing `capacity_qps` at most."""
    rounds: list[dict[str, Any]] = []

    def fake(who: Shopper, offered: float, checkouts: float, seconds: float, settle: float,
             *, cut: bool = True) -> CatalogFit:
        rounds.append({"offered": offered, "seconds": seconds, "settle": settle, "cut": cut})
        done = min(offered, capacity_qps)
        return CatalogFit(done, None, leftover if cut and offered > done else 0)

    monkeypatch.setattr(capacity, "_catalog_round", fake)
    return rounds


def test_one_round_when_the_first_offer_is_past_capacity_and_not_far(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = _rounds(monkeypatch, capacity_qps=7.0)
    assert catalog_fit(WHO, 13.0, PROBE).qps == 7.0
    assert rounds == [{"offered": 13.0, "seconds": 8.0, "settle": 3.0, "cut": True}]


def test_far_past_is_measured_again_after_the_queue_it_left(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = _rounds(monkeypatch, capacity_qps=4.0, leftover=40)
    assert catalog_fit(WHO, FAR * 4.0 + 1, PROBE).qps == 4.0
    assert len(rounds) == 2 and rounds[1]["offered"] == pytest.approx(REFINE * 4.0)
    # 40 listings queued at 4 a second: the next round counts 10 s later.
    assert rounds[1]["settle"] == pytest.approx(13.0) and rounds[1]["seconds"] == pytest.approx(18.0)


def test_an_offer_kept_up_with_is_doubled_and_drained(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = _rounds(monkeypatch, capacity_qps=20.0)
    assert catalog_fit(WHO, 13.0, PROBE).qps == 20.0
    assert [(r["offered"], r["cut"]) for r in rounds] == [(13.0, True), (26.0, False)]


def _lock_rounds(monkeypatch: pytest.MonkeyPatch, passes: list[float]) -> list[float]:
    """The hot row's rounds answer `passes` in turn; returns the offers they were made."""
    offers: list[float] = []

    def fake(who: Any, sale: float, orders: float, probe: capacity.Probe, seconds: float) -> float:
        offers.append(orders)
        return passes[len(offers) - 1]

    monkeypatch.setattr(capacity, "_rush_round", fake)
    return offers


def test_a_lock_rerun_that_counted_nothing_keeps_the_first_round(monkeypatch: pytest.MonkeyPatch) -> None:
    offers = _lock_rounds(monkeypatch, [0.5, 0.0])
    # Offered 1.6 x 2.0 = 3.2/s, 0.5 passed: far past the overload, so run again; that re-run
    # counted no answer (a loaded machine), and the first round's 0.5 stands rather than a zero.
    assert capacity.lock_throughput(None, 10.0, 1.0, capacity.Probe(), 1.6, guess_per_s=2.0) == 0.5  # type: ignore[arg-type]
    assert len(offers) == 2


def test_a_hot_row_that_passed_nothing_fails_the_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    _lock_rounds(monkeypatch, [0.0] * 10)
    with pytest.raises(RuntimeError, match="no doorbuster order"):
        capacity.lock_throughput(None, 10.0, 1.0, capacity.Probe(), 1.6, guess_per_s=2.0)  # type: ignore[arg-type]
