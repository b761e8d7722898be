"""The telemetry contract: each attribute states an observed fact."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from rehearsal.processes import wait_for
from services.checkout.main import create_app as checkout_app
from services.checkout.metrics import FAILURE_REASONS
from services.product_catalog.main import create_app as catalog_app
from services.shared import attributes as attrs
from tests.dbutil import counts


def server_spans(service, path, count=1):
    return service.wait_spans(lambda s: s.kind.name == "SERVER" and s.attributes.get("http.route") == path, count)


@pytest.fixture
def row_lock(pg):
    """Holds product 3's row lock in an open transaction: real, slow checkouts behind it."""
    import psycopg

    conn = psycopg.connect(pg.conninfo())
    conn.execute("SELECT 1 FROM products WHERE id = 3 FOR UPDATE")
    yield conn
    conn.rollback()
    conn.close()


def _lock_waiters(db) -> int:
    return db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'checkout' "
                      "AND wait_event_type = 'Lock'").fetchone()[0]


def test_real_pool_timeout_gives_503_with_exhausted_and_failed_spans(run_service, db, row_lock, capsys):
    service = run_service(checkout_app, db_max_connections=2, db_min_connections=2,
                          db_connection_timeout=1.0, checkout_lock_timeout_ms=4000)
    before = counts(db)
    order = {"customer_id": "p", "expected_total": "199.99", "items": [{"product_id": 3, "quantity": 1}]}

    def buy(_: int) -> httpx.Response:
        with httpx.Client(base_url=service.url, timeout=30) as c:
            return c.post("/checkout", json=order)

    with ThreadPoolExecutor(5) as pool:
        holders = [pool.submit(buy, i) for i in range(2)]
        # A DBA's view: both pooled connections wait on the row lock.
        wait_for(lambda: _lock_waiters(db) >= 2, 10, interval=0.02, what="the first checkouts queuing on the lock")
        starved = list(pool.map(buy, range(3)))
        held = [f.result() for f in holders]
    assert [r.status_code for r in starved + held] == [503] * 5
    assert [r.json()["error"] for r in starved] == ["pool_exhausted"] * 3
    assert [r.json()["error"] for r in held] == ["lock_timeout"] * 2
    assert starved[0].json()["detail"].startswith(
        "Checkout is overloaded: no database connection free after 1.")
    spans = server_spans(service, "/checkout", count=5)
    exhausted = [s for s in spans if s.attributes.get(attrs.DB_POOL_EXHAUSTED)]
    assert len(exhausted) == 3
    for s in exhausted:
        assert s.attributes[attrs.CHECKOUT_FAILED] is True
        assert s.attributes[attrs.CHECKOUT_FAILURE_REASON] == "pool_exhausted"
        # The whole pool timeout, to the event loop's timer resolution (uvloop's is 1 ms).
        assert s.attributes["db.connection.pool.wait_ms"] >= 999
    assert s.resource.attributes["service.name"] == "checkout"
    assert counts(db) == before
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    pool_events = [e for e in events if e["event"] == "demo_pool_exhaustion"]
    failed_events = [e for e in events if e["event"] == "demo_checkout_failed"]
    assert len(pool_events) == 3 and len(failed_events) == 5
    trace_ids = {format(s.context.trace_id, "032x") for s in exhausted}
    assert {e["trace_id"] for e in pool_events} == trace_ids
    assert sum(e["lost_revenue"] for e in failed_events) == pytest.approx(5 * 199.99)


def test_dropping_the_category_index_flags_full_scans_and_restoring_clears_them(
        run_service, db, restore_indexes):
    service = run_service(catalog_app)
    params = {"category": "books/sub02", "price_min": 10, "price_max": 400}

    def listing_facts():
        service.spans.clear()
        with service.client() as c:
            assert c.get("/products", params=params).status_code == 200
        span = next(s for s in service.finished_spans() if s.name == "query catalog_listing")
        return span.attributes[attrs.DB_FULL_TABLE_SCAN], span.attributes[attrs.DB_MISSING_INDEX]

    assert listing_facts() == (False, False)
    db.execute("DROP INDEX idx_products_category")
    _wait_for_index_catalog(service, present=False)
    assert listing_facts() == (True, True)
    server = server_spans(service, "/products")[-1]
    assert server.attributes[attrs.DB_FULL_TABLE_SCAN] is True
    db.execute("CREATE INDEX idx_products_category ON products (category, price)")
    _wait_for_index_catalog(service, present=True)
    assert listing_facts() == (False, False)


def _wait_for_index_catalog(service, present: bool) -> None:
    wait_for(lambda: ("idx_products_category" in httpx.get(f"{service.url}/ready").json()["valid_indexes"])
             == present, 10, interval=0.05, what="the service seeing the index change")


def test_slow_query_flag_follows_the_measured_duration(run_service, capsys):
    # A threshold of 0.001 ms: every real query is slower, so the flag must be set...
    strict = run_service(catalog_app, slow_query_ms=0.001)
    with strict.client() as c:
        c.get("/products/7")
    span = next(s for s in strict.finished_spans() if s.name == "query product_by_id")
    assert span.attributes[attrs.DB_SLOW_QUERY] is True
    assert span.attributes[attrs.DB_QUERY_DURATION_MS] > 0.001
    slow_events = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "demo_slow_query" in x]
    assert slow_events and slow_events[0]["shape"] == "product_by_id"
    assert slow_events[0]["trace_id"] == format(span.context.trace_id, "032x")
    # ...and with the default 1000 ms threshold the same query is not slow.
    relaxed = run_service(catalog_app)
    with relaxed.client() as c:
        c.get("/products/7")
    span = next(s for s in relaxed.finished_spans() if s.name == "query product_by_id")
    assert span.attributes[attrs.DB_SLOW_QUERY] is False


def test_w3c_context_and_demo_labels(run_service):
    start = time.time() - 125  # 2 demo minutes of 60 s and a bit: minute 2, phase ramp
    service = run_service(catalog_app, demo_mode="blackfriday", demo_start_timestamp=start)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with service.client() as c:
        c.get("/products/9", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    server = server_spans(service, "/products/{product_id}")[-1]
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None and format(server.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert server.attributes[attrs.DEMO_MINUTE] == 2
    assert server.attributes[attrs.DEMO_PHASE] == "ramp"
    assert server.resource.attributes["service.namespace"] == "ecommerce-platform"


def test_demo_labels_agree_across_services():
    start = 1_700_000_000.0
    now = start + 22 * 10 + 3
    labels = attrs.demo_labels("blackfriday", start, 10.0, now=now)
    assert labels == {attrs.DEMO_MINUTE: 22, attrs.DEMO_PHASE: "pool_exhaustion"}
    assert attrs.demo_labels("off", start, 10.0, now=now) == {attrs.DEMO_PHASE: "baseline"}
    assert attrs.demo_labels("blackfriday", start, 10.0, now=start + 301)[attrs.DEMO_PHASE] == "finished"


def test_checkout_counters_and_pool_gauges_are_exported(run_service, hot_product):
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    service = run_service(checkout_app, metric_reader=reader)
    with service.client() as c:
        assert c.post("/checkout", json={"customer_id": "m", "items": [
            {"product_id": hot_product, "quantity": 1}]}).status_code == 201
        assert c.post("/checkout", json={"customer_id": "m", "expected_total": "10.00", "items": [
            {"product_id": hot_product, "quantity": 99}]}).status_code == 409
    data = reader.get_metrics_data()
    points = {m.name: m.data.data_points for rm in data.resource_metrics
              for sm in rm.scope_metrics for m in sm.metrics}
    assert sum(p.value for p in points["checkout.attempted"]) == 2
    failed = {p.attributes["checkout.failure_reason"]: p.value for p in points["checkout.failed"]}
    # Every reason is exported, at 0 until it fails (Prometheus' rate() needs the series first).
    assert failed == {reason: int(reason == "out_of_stock") for reason in FAILURE_REASONS}
    assert sum(p.value for p in points["checkout.failed.revenue"]) == pytest.approx(99 * 199.99)
    assert points["db.pool.max"][0].value == 100
    assert points["db.pool.size"][0].value >= 1
    assert {"db.pool.available", "db.pool.waiting"} <= set(points)


def test_a_checkouts_trace_is_its_server_span_and_one_span_per_query(run_service, hot_product):
    # What tracing costs is paid per span: a request carries its server span and the QueryRunner's
    # `query <shape>` spans (each stating the facts the alert reads), and no per-statement driver
    # spans or ASGI send/receive spans beside them.
    service = run_service(checkout_app)
    with service.client() as c:
        assert c.post("/checkout", json={"customer_id": "t", "items": [
            {"product_id": hot_product, "quantity": 1}]}).status_code == 201
    [server] = server_spans(service, "/checkout")
    trace = [s for s in service.finished_spans() if s.context.trace_id == server.context.trace_id]
    queries = [s for s in trace if s is not server]
    assert sorted(s.name for s in queries) == sorted(
        f"query {shape}" for shape in ("checkout_lock_products", "checkout_decrement_stock",
                                       "checkout_low_stock_check", "checkout_insert_order",
                                       "checkout_insert_lines"))
    for span in queries:
        assert span.kind.name == "INTERNAL" and span.parent.span_id == server.context.span_id
        assert span.attributes[attrs.DB_QUERY_SHAPE] == span.name.removeprefix("query ")
        assert span.attributes[attrs.DB_QUERY_DURATION_MS] > 0
        assert {attrs.DB_SLOW_QUERY, attrs.DB_FULL_TABLE_SCAN, attrs.DB_MISSING_INDEX} <= set(span.attributes)
    assert server.attributes[attrs.CHECKOUT_FAILED] is False
    assert "db.connection.pool.wait_ms" in server.attributes
