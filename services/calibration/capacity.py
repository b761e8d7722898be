"""The capacities a scenario is sized from, measured at the services with the requests the load
generator sends (its listing pages, its doorbuster orders, its settings), each under an offered
load that exceeds it: a throughput equal to the offered rate proves nothing, so the rate is
raised until the answers fall behind."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.calibration.driver import Request, completed_per_s, run_open_loop
from services.load_generator.config import Settings
from services.load_generator.requests import listing_params, order_body

# A throughput below this share of the offered rate shows the offered load exceeded capacity.
SATURATED = 0.85
# The last catalog round's offer over the capacity first found: past it, as the scenario's
# stages are, so the pool stays full, without the services working many times harder.
REFINE = 1.25


@dataclass(frozen=True)
class Probe:
    """How long the measuring rounds run. The first seconds of each are not counted: the pool
    fills and the queue builds then."""

    catalog_seconds: float = 16.0
    catalog_settle_seconds: float = 6.0
    rush_seconds: float = 30.0
    orders_from_seconds: float = 6.0   # the catalog is overloaded first, then the orders come
    rush_settle_seconds: float = 16.0
    rounds: int = 4
    # The last round, at the rush's own overload, counts completions over its last
    # (lock_seconds - rush_settle_seconds): at half an order a second, 14 s hold 7 and one
    # order more or less is 14 % of the result; 60 s hold 22.
    lock_seconds: float = 60.0


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
    """Catalog listings per second the storefront completes, offered more than it can take,
    while `checkouts_per_s` ordinary orders run beside them as in the sale: each order's
    low-stock check scans the table too (measured: the sale failed 10-14 % of its listings at
    real-time minutes when offered 1.05 times a capacity measured on listings alone).

    Found by doubling the offer until the answers fall behind, then measured again at
    REFINE times that: the services' own processes share the machine with the database, and
    a several-fold overload busies them enough to take from it (on 2 cores: 9.1 listings/s
    at 26.7 offered, 9.8 at 14)."""
    if checkouts_per_s > 0 and not who.goods:
        raise RuntimeError("the catalog's listings show no product to order: seed it before calibrating")
    offered, completed = 2.0 * guess_qps, 0.0
    for _ in range(probe.rounds):
        completed = _catalog_round(who, offered, checkouts_per_s, probe)
        if completed < SATURATED * offered:
            break
        offered *= 2
    return _catalog_round(who, REFINE * completed, checkouts_per_s, probe) if completed > 0 else 0.0


def _catalog_round(who: Shopper, offered: float, checkouts_per_s: float, probe: Probe) -> float:
    seconds = probe.catalog_seconds
    requests = [who.listing(i, i / offered) for i in range(int(seconds * offered))]
    requests += [who.checkout(i, i / checkouts_per_s) for i in range(int(seconds * checkouts_per_s))]
    return completed_per_s(run_open_loop(requests), "catalog", probe.catalog_settle_seconds, seconds)


def lock_throughput(who: Shopper, catalog_qps: float, catalog_overload: float, probe: Probe = Probe(),
                    checkout_overload: float = 1.0) -> float:
    """Doorbuster orders per second the hot rows let through while the catalog is held at
    `catalog_overload` times its capacity, as in the scenario's rush: first offered far more
    than they pass, then, measured again, `checkout_overload` times that, the rush's own
    overload (a queue many times longer than the rush's holds more waiters on the lock and
    lets fewer through: measured 0.43 against 0.52 per second in the rush). Starting that
    last round with the pool already full of waiters was tried and measured too little:
    with it, five of six runs under the CPU quota failed almost no checkout."""
    sale, orders, completed = catalog_overload * catalog_qps, 4.0, 0.0
    for _ in range(probe.rounds):
        completed = _rush_round(who, sale, orders, probe)
        if completed < SATURATED * orders:
            break
        orders *= 2.5
    if checkout_overload > 1.0 and completed > 0:
        completed = _rush_round(who, sale, checkout_overload * completed, probe, probe.lock_seconds)
    return completed


def _rush_round(who: Shopper, sale: float, orders: float, probe: Probe, seconds: float | None = None) -> float:
    seconds = seconds or probe.rush_seconds
    order_seconds = seconds - probe.orders_from_seconds
    requests = [who.listing(i, i / sale) for i in range(int(seconds * sale))]
    requests += [who.order(i, probe.orders_from_seconds + i / orders) for i in range(int(order_seconds * orders))]
    return completed_per_s(run_open_loop(requests), "order", probe.rush_settle_seconds, seconds)
