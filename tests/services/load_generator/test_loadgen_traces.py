"""Journeys as spans, context propagated into the storefront, and what each journey sends."""

from __future__ import annotations

import json
import time
from collections import Counter

from opentelemetry.trace import SpanKind

from tests.services.load_generator.conftest import FakeStorefront, LoadGenFactory

MS = 1.0


def run_demo(gen, at_minute: float, duration: int, seconds: float) -> dict:  # type: ignore[no-untyped-def]
    body = {"scenario": "blackfriday", "duration_minutes": duration, "peak_rpm": 600,
            "minute_seconds": MS, "start_timestamp": time.time() - at_minute * MS}
    with gen.client() as c:
        assert c.post("/admin/start-demo", json=body).status_code == 200
        time.sleep(seconds)
        return c.post("/admin/stop-demo").json()  # type: ignore[no-any-return]


def test_journeys_are_spans_and_propagate_trace_context_and_baggage(
    storefront: FakeStorefront, start_loadgen: LoadGenFactory,
) -> None:
    gen = start_loadgen()
    run_demo(gen, at_minute=10, duration=30, seconds=3.5)
    spans = gen.finished_spans()
    journeys = {s.context.span_id: s for s in spans if s.name.startswith("user_journey.")}
    kinds = Counter(s.name for s in journeys.values())
    assert set(kinds) == {"user_journey.browse_only", "user_journey.browse_and_cart",
                          "user_journey.full_checkout"}
    for journey in journeys.values():
        attrs = journey.attributes or {}
        assert attrs["demo.phase"] == "peak" and attrs["demo.minute"] in range(10, 14)
        assert attrs["synthetic_request"] is True and attrs["journey.type"] in journey.name
    clients = {s.context.span_id: s for s in spans if s.kind is SpanKind.CLIENT}
    assert clients and all(s.parent is not None and s.parent.span_id in journeys
                           for s in clients.values())
    assert all((s.attributes or {}).get("http.response.status_code") for s in clients.values())
    assert all((s.attributes or {}).get("demo.phase") == "peak" for s in clients.values())
    received = [r for r in storefront.requests() if r.headers.get("traceparent")]
    assert received
    for request in received:
        _, trace_id, span_id, _ = request.headers["traceparent"].split("-")
        client = clients.get(int(span_id, 16))
        if client is None:      # cancelled by stop-demo before its span ended
            continue
        assert format(client.context.trace_id, "032x") == trace_id
        assert "synthetic_request=true" in request.headers["baggage"]
    assert sum(1 for r in received if int(r.headers["traceparent"].split("-")[2], 16) in clients) \
        >= 0.8 * len(received)


def test_full_checkout_orders_its_cart(storefront: FakeStorefront,
                                       start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen(loadgen_think_time_seconds=0.2)
    run_demo(gen, at_minute=10, duration=30, seconds=2)
    orders = [r.body for r in storefront.requests("POST", "/checkout")]
    assert orders and all(set(o) == {"customer_id", "cart_id", "expected_total"} for o in orders)
    assert all(o["expected_total"] == "10.00" for o in orders)
    listing = storefront.listings()[0].params
    assert set(listing) == {"category", "price_min", "price_max", "limit"}
    assert float(listing["price_max"]) - float(listing["price_min"]) == 100 and listing["limit"] == "20"


def test_checkout_rush_places_doorbuster_orders_on_the_hottest_row(
    storefront: FakeStorefront, start_loadgen: LoadGenFactory,
) -> None:
    calibration = {"products": 100000, "catalog_capacity_qps": 4.0, "lock_throughput_per_s": 3.0}
    gen = start_loadgen(calibration_json=json.dumps(calibration))
    # Minute 21: the checkout rush. 1.6 * 3.0 / (10/s * 0.3) = 1.6 orders per full_checkout.
    status = run_demo(gen, at_minute=21, duration=30, seconds=3.5)
    orders = [r.body for r in storefront.requests("POST", "/checkout")]
    assert orders, status
    assert all(o["items"] == [{"product_id": 1, "quantity": 1}] for o in orders)
    assert all(o["expected_total"] == "199.99" and "cart_id" not in o for o in orders)
    checkout_journeys = [s for s in gen.finished_spans() if s.name == "user_journey.full_checkout"]
    placed = [(s.attributes or {})["journey.doorbuster_orders"] for s in checkout_journeys]
    assert placed and set(placed) <= {1, 2}
    # Catalog pages: 1.5 * 4.0 / (10/s) = 0.6, at least one page per journey.
    assert status["checkout_failures"] == 0 and status["checkout_attempts"] >= len(orders) - 5


def test_hunters_whose_order_failed_still_browse_the_sale(
    storefront: FakeStorefront, start_loadgen: LoadGenFactory,
) -> None:
    """The catalog's load does not fall with the checkout's failures."""
    storefront.set(checkout_status=503)
    calibration = {"products": 100000, "catalog_capacity_qps": 4.0, "lock_throughput_per_s": 3.0}
    gen = start_loadgen(calibration_json=json.dumps(calibration))
    run_demo(gen, at_minute=21, duration=30, seconds=3.5)
    hunters = [s for s in gen.finished_spans() if s.name == "user_journey.full_checkout"
               and "journey.completed" in (s.attributes or {})]  # ended, not cut off by the run's end
    assert hunters and not any((s.attributes or {})["journey.completed"] for s in hunters)
    browsed = {r.headers.get("traceparent", "").split("-")[1] for r in storefront.listings()}
    assert {format(s.context.trace_id, "032x") for s in hunters} <= browsed


def test_rotating_doorbusters_is_a_setting(storefront: FakeStorefront,
                                           start_loadgen: LoadGenFactory) -> None:
    calibration = {"products": 100000, "catalog_capacity_qps": 4.0, "lock_throughput_per_s": 3.0}
    gen = start_loadgen(calibration_json=json.dumps(calibration), loadgen_doorbuster_targets=3)
    run_demo(gen, at_minute=21, duration=30, seconds=2.5)
    ids = Counter(r.body["items"][0]["product_id"] for r in storefront.requests("POST", "/checkout"))
    assert set(ids) == {1, 2, 3} and max(ids.values()) - min(ids.values()) <= 1


def test_failed_checkouts_are_counted_and_business_answers_are_not_errors(
    storefront: FakeStorefront, start_loadgen: LoadGenFactory,
) -> None:
    storefront.set(checkout_status=409)
    gen = start_loadgen(loadgen_think_time_seconds=0.1)
    status = run_demo(gen, at_minute=10, duration=30, seconds=2)
    assert status["checkout_attempts"] > 0
    assert status["checkout_failures"] == status["checkout_attempts"]
    assert status["errors"] == 0 and status["rejections"] == status["checkout_attempts"]
    storefront.set(checkout_status=503)
    gen2 = start_loadgen(loadgen_think_time_seconds=0.1)
    status = run_demo(gen2, at_minute=10, duration=30, seconds=2)
    assert status["checkout_failures"] == status["checkout_attempts"] > 0
    assert status["errors"] == status["checkout_attempts"]
