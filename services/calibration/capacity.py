"""The capacities a scenario is sized from, measured at the services with the requests the load
generator sends (its listing pages, its doorbuster orders, its settings), each under an offered
load that exceeds it: a throughput equal to the offered rate proves nothing, so the rate is
raised until the answers fall behind."""

from __future__ import annotations

import json
import statistics
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.calibration.driver import Request, completed_per_s, run_open_loop, steady_rate
from services.load_generator.config import Settings
from services.load_generator.requests import listing_params, order_body

# A throughput below this share of the offered rate shows the offered load exceeded capacity.
SATURATED = 0.85
# The last catalog round's offer over the capacity first found: past it, as the scenario's
# stages are, so the pool stays full, without the services working many times harder.
REFINE = 1.25
# Past this multiple of what it completes, an offer busies the services enough to take from
# the database they share the machine with: it is measured again nearer. Within it, not by
# much (on 2 cores: 9.1 listings/s at 26.7 offered, 9.8 at 14, 7 % apart at 2.9x and 1.4x).
FAR = 3.0


@dataclass(frozen=True)
class Probe:
    """How long the measuring rounds run. The first seconds of each are not counted: the pool
    fills and the queue builds then. A round offered a little past capacity stops when its
    counting ends, without waiting for its queue to drain: what is left of it is the load the
    next round's uncounted first seconds build anyway."""

    # The sizing's listings, all the pool's sessions at once: some 70 of them at 0.5 s each.
    listing_seconds: float = 2.0
    # The round whose completions are the catalog's capacity: at ~8 listings/s, 5 s count ~40.
    catalog_seconds: float = 8.0
    catalog_settle_seconds: float = 3.0
    rush_seconds: float = 12.0  # a round of the hot row's search, run only without a first estimate
    orders_from_seconds: float = 2.0   # the catalog is overloaded first, then the orders come
    rush_settle_seconds: float = 5.0
    rounds: int = 4
    # The hot row's round at the rush's own overload counts from rush_settle_seconds to here,
    # by the spacing of its completions (driver.steady_rate), not their count. Shorter than
    # the 16 s it was: the load generator replaces this figure by the rush's own rate after
    # its first five checkouts (throughput.EARLY_SUCCESSES), so it sizes only the rush's first seconds.
    lock_seconds: float = 12.0


@dataclass(frozen=True)
class CatalogFit:
    """The catalog's capacity, and how long an ordinary checkout took beside it: its low-stock
    scan is what a doorbuster order does holding the hot row's lock, so one over it is the
    first estimate of the lock's throughput."""

    qps: float
    checkout_s: float | None
    leftover: int = 0  # listings not yet answered when a cut round stopped counting


@dataclass(frozen=True)
class Shopper:
    """The requests of the load generator, with its settings, against one storefront."""

    catalog_url: str
    checkout_url: str
    settings: Settings
    categories: Sequence[str]
    deals: Sequence[Mapping[str, Any]]  # the doorbusters its rush orders, in its rotation
    # Products of its first listing pages, as the sale's shoppers put them in their carts.
    goods: Sequence[Mapping[str, Any]] = ()

    def listing(self, slot: int, due: float) -> Request:
        params = listing_params(self.categories, slot, self.settings.loadgen_price_window,
                                self.settings.loadgen_price_ceiling)
        return Request(due, "catalog", "GET", f"{self.catalog_url}/products", params=params)

    def order(self, seq: int, due: float) -> Request:
        body = order_body(f"calibration-{seq}", self.deals[seq % len(self.deals)])
        return Request(due, "order", "POST", f"{self.checkout_url}/checkout", body=body)

    def checkout(self, seq: int, due: float) -> Request:
        """An ordinary order of one product from the listings (no hot row)."""
        body = order_body(f"calibration-cart-{seq}", self.goods[seq % len(self.goods)])
        return Request(due, "checkout", "POST", f"{self.checkout_url}/checkout", body=body)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - our own services
        return json.load(response)


def shopper(catalog_url: str, checkout_url: str, settings: Settings | None = None) -> Shopper:
    """What the load generator would send to this storefront: its categories, its deals."""
    settings = settings or Settings()
    deals = _get_json(f"{catalog_url}/products/doorbusters")[: settings.loadgen_doorbuster_targets]
    if not deals:
        raise RuntimeError("the catalog has no doorbuster: seed it before calibrating")
    categories = _get_json(f"{catalog_url}/categories")
    goods: list[Mapping[str, Any]] = []
    for slot in range(len(categories)):
        if len(goods) >= 50:
            break
        page = _get_json(f"{catalog_url}/products?" + urllib.parse.urlencode(
            listing_params(categories, slot, settings.loadgen_price_window, settings.loadgen_price_ceiling)))
        # Plenty of stock: an order refused as out of stock skips the scan being measured.
        goods += [p for p in page.get("products", []) if not p.get("is_doorbuster")
                  and p.get("stock_quantity", 0) >= 10]
    return Shopper(catalog_url, checkout_url, settings, categories, deals, goods)


def catalog_capacity(who: Shopper, guess_qps: float, probe: Probe = Probe(), checkouts_per_s: float = 0.0) -> float:
    return catalog_fit(who, guess_qps, probe, checkouts_per_s).qps


def catalog_fit(who: Shopper, guess_qps: float, probe: Probe = Probe(), checkouts_per_s: float = 0.0) -> CatalogFit:
    """Catalog listings per second the storefront completes, offered more than it can take,
    while `checkouts_per_s` ordinary orders run beside them as in the sale: each order's
    low-stock check scans the table too (measured: the sale failed 10-14 % of its listings at
    real-time minutes when offered 1.05 times a capacity measured on listings alone).

    First offered `guess_qps`: the listings the database itself completes with the pool's
    sessions on this catalog (sizing), more than the storefront can, whose services take their
    share of the machine and whose checkouts scan beside them. When the answers fall behind it
    and not FAR behind, that one round is the capacity. A round that keeps up is not capacity:
    its offer is doubled; one FAR past is measured again at REFINE times what it completed."""
    if checkouts_per_s > 0 and not who.goods:
        raise RuntimeError("the catalog's listings show no product to order: seed it before calibrating")
    offered, raised, fit = guess_qps, False, CatalogFit(0.0, None)
    for _ in range(probe.rounds):
        # The listings a cut round left queued are answered first in the next: its uncounted
        # start is stretched by the time they take (measured: a round after a cut one at 2.4x
        # completed 0.2 listings/s counted from 3 s). A raised offer may be several-fold past
        # capacity: drained instead (1.8 listings/s after such a round cut, 6.5 drained).
        backlog = fit.leftover / fit.qps if fit.qps > 0 else 0.0
        fit = _catalog_round(who, offered, checkouts_per_s, probe.catalog_seconds + backlog,
                             probe.catalog_settle_seconds + backlog, cut=not raised)
        kept_up = fit.qps >= SATURATED * offered
        if fit.qps <= 0 or not kept_up and offered <= FAR * fit.qps:
            break
        raised = kept_up
        offered = 2 * offered if kept_up else REFINE * fit.qps
    return fit


def _catalog_round(who: Shopper, offered: float, checkouts_per_s: float, seconds: float, settle: float,
                   *, cut: bool = True) -> CatalogFit:
    requests = [who.listing(i, i / offered) for i in range(int(seconds * offered))]
    requests += [who.checkout(i, i / checkouts_per_s) for i in range(int(seconds * checkouts_per_s))]
    outcomes = run_open_loop(requests, until=seconds if cut else None)
    checkouts = [o.latency_s for o in outcomes if o.kind == "checkout" and o.ok and o.due >= settle]
    listings = sum(1 for r in requests if r.kind == "catalog")
    return CatalogFit(completed_per_s(outcomes, "catalog", settle, seconds),
                      statistics.median(checkouts) if checkouts else None,
                      listings - sum(1 for o in outcomes if o.kind == "catalog"))


def lock_throughput(who: Shopper, catalog_qps: float, catalog_overload: float, probe: Probe = Probe(),
                    checkout_overload: float = 1.0, guess_per_s: float | None = None) -> float:
    """Doorbuster orders per second the hot rows let through while the catalog is held at
    `catalog_overload` times its capacity, as in the scenario's rush, measured at
    `checkout_overload` times that, the rush's own overload (a queue many times longer than
    the rush's holds more waiters on the lock and lets fewer through: measured 0.43 against
    0.52 per second in the rush). Starting that round with the pool already full of waiters
    was tried and measured too little: with it, five of six runs under the CPU quota failed
    almost no checkout.

    The first offer comes from `guess_per_s` when there is one (catalog_fit's checkouts);
    without one, or when the round keeps up with its offer, short rounds search from far
    more than the lock passes, and the last round is run again at the overload of what they found."""
    sale = catalog_overload * catalog_qps
    overload = max(checkout_overload, 1.0 / SATURATED)  # an offer the answers must fall behind
    if guess_per_s:
        offered = overload * guess_per_s
        completed = _rush_round(who, sale, offered, probe, probe.lock_seconds)
        if 0 < completed < SATURATED * offered:
            # Far past the rush's own overload, the queue is longer than the rush's: again at it.
            far = offered > 2 * overload * completed
            again = _rush_round(who, sale, overload * completed, probe, probe.lock_seconds) if far else 0.0
            # A re-run whose short count saw too few answers (a loaded machine) keeps the first.
            return again or completed
    orders, completed = 4.0, 0.0
    for _ in range(probe.rounds):
        completed = _rush_round(who, sale, orders, probe, probe.rush_seconds)
        if completed < SATURATED * orders:
            break
        orders *= 2.5
    final = _rush_round(who, sale, overload * completed, probe, probe.lock_seconds) if completed > 0 else 0.0
    if not (final or completed):
        # Saved, a zero would be refused by the next run; failing now says what to do.
        raise RuntimeError("the hot row let no doorbuster order through while measured: the machine may be "
                           "too busy; measure again when it is quieter")
    return final or completed


def _rush_round(who: Shopper, sale: float, orders: float, probe: Probe, seconds: float) -> float:
    order_seconds = seconds - probe.orders_from_seconds
    requests = [who.listing(i, i / sale) for i in range(int(seconds * sale))]
    requests += [who.order(i, probe.orders_from_seconds + i / orders) for i in range(int(order_seconds * orders))]
    return steady_rate(run_open_loop(requests, until=seconds), "order", probe.rush_settle_seconds, seconds)
