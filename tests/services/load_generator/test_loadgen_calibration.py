"""Calibration measures what the load generator offers: the same listing pages and the same
doorbuster orders reach the storefront from both. If either side changes its requests without
the other, this fails."""

from __future__ import annotations

import json
import time
from typing import Any

from rehearsal.processes import wait_for
from services.calibration.capacity import Probe, catalog_capacity, lock_throughput, shopper
from tests.services.load_generator.conftest import FakeStorefront, LoadGenFactory

MS = 1.0
CALIBRATION = {"products": 1000, "catalog_capacity_qps": 20.0, "lock_throughput_per_s": 4.0}
SHORT = Probe(catalog_seconds=2.0, catalog_settle_seconds=0.5, rush_seconds=3.0, orders_from_seconds=0.5,
              rush_settle_seconds=1.0, rounds=1)


def _listings(storefront: FakeStorefront) -> set[tuple[tuple[str, str], ...]]:
    return {tuple(sorted(r.params.items())) for r in storefront.listings()}


def _orders(storefront: FakeStorefront) -> list[dict[str, Any]]:
    """Doorbuster orders (placed from the product page), with the shopper's id left out."""
    return [{k: v for k, v in r.body.items() if k != "customer_id"}
            for r in storefront.requests("POST", "/checkout") if "items" in r.body]


def _from_the_load_generator(storefront: FakeStorefront, start_loadgen: LoadGenFactory) -> tuple[set, list]:
    gen = start_loadgen(calibration_json=json.dumps(CALIBRATION))
    body = {"scenario": "blackfriday", "duration_minutes": 23, "peak_rpm": 600, "minute_seconds": MS,
            "start_timestamp": time.time() - 21 * MS}  # joins the checkout rush
    with gen.client() as c:
        assert c.post("/admin/start-demo", json=body).status_code == 200
        wait_for(lambda: not gen.status()["running"], timeout=30)
        wait_for(lambda: not gen.status()["in_flight_journeys"], timeout=30)
    return _listings(storefront), _orders(storefront)


def test_calibration_sends_the_load_generators_requests(storefront: FakeStorefront,
                                                        start_loadgen: LoadGenFactory) -> None:
    offered_listings, offered_orders = _from_the_load_generator(storefront, start_loadgen)
    storefront.set(reset=True)
    who = shopper(storefront.url, storefront.url)
    catalog_qps = catalog_capacity(who, guess_qps=20.0, probe=SHORT)
    lock_throughput(who, catalog_qps, 1.5, probe=SHORT)
    measured_listings, measured_orders = _listings(storefront), _orders(storefront)
    # Both go through the same rotation of listing pages (categories x price windows).
    assert len(offered_listings) >= 10
    assert measured_listings == offered_listings
    assert offered_orders and measured_orders
    assert {json.dumps(o, sort_keys=True) for o in measured_orders} == \
        {json.dumps(o, sort_keys=True) for o in offered_orders}


def test_calibration_orders_the_listed_goods_beside_its_listings(storefront: FakeStorefront) -> None:
    """The sale's ordinary checkouts (each a low-stock scan) are measured with the listings:
    products the listings showed, never a doorbuster's hot row, at the rate asked."""
    who = shopper(storefront.url, storefront.url)
    storefront.set(reset=True)
    catalog_capacity(who, guess_qps=20.0, probe=SHORT, checkouts_per_s=5.0)
    orders = [r.body for r in storefront.requests("POST", "/checkout")]
    ordered = {line["product_id"] for o in orders for line in o["items"]}
    assert ordered and ordered <= {p["id"] for p in who.goods}
    assert not ordered & {d["id"] for d in who.deals}
    # SHORT's one round, offered the guess.
    assert len(orders) == int(SHORT.catalog_seconds * 5.0)
