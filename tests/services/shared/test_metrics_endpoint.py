"""GET /metrics: the service's own OpenTelemetry instruments in Prometheus' text format, under the
names the shipped rules use (scenarios/metrics.py), with buckets at the scenario's thresholds."""

from __future__ import annotations

import re

from scenarios.catalogue import get_scenario
from scenarios.metrics import prometheus_name
from services.product_catalog.main import create_app


def samples(text: str, family: str) -> dict[str, float]:
    # A label's value may hold braces (a route template): the labels run to the line's last brace.
    return {m.group(1): float(m.group(2)) for m in re.finditer(rf"^({family}(?:\{{.*\}})?) (\S+)$", text, re.M)}


def test_requests_are_counted_by_route_and_status_with_the_alerts_threshold_as_a_bucket(run_service) -> None:
    catalog = run_service(create_app)
    with catalog.client() as c:
        category = c.get("/categories").json()[0]
        assert c.get("/products", params={"category": category, "limit": 5}).status_code == 200
        assert c.get("/products", params={"category": category, "limit": 5}).status_code == 200
        assert c.get("/products/999999999").status_code == 404
        response = c.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert "# TYPE storefront_request_duration_milliseconds histogram" in text
    threshold = get_scenario("blackfriday").alert.catalog_p95_ms_gt
    labels = 'http_response_status_code="200",http_route="/products"'
    counts = samples(text, "storefront_request_duration_milliseconds_count")
    listing = next(v for k, v in counts.items() if labels in k and 'service_name="product-catalog"' in k)
    assert listing == 2
    buckets = samples(text, "storefront_request_duration_milliseconds_bucket")
    at_threshold = [v for k, v in buckets.items() if labels in k and f'le="{threshold}"' in k]
    assert at_threshold and at_threshold[0] <= 2  # cumulative: the listings at or under 2 s
    assert any('http_response_status_code="404",http_route="/products/{product_id}"' in k for k in counts)
    # The platform's own requests are not the shop's.
    assert not any("/metrics" in k or "/ready" in k for k in counts)
    # The pool's state, as gauges and a counter.
    assert re.search(r'^db_pool_waiting\{pool_name="product-catalog",service_name="product-catalog"\} 0', text, re.M)
    assert "# TYPE db_pool_timeouts_total counter" in text


def test_names_follow_opentelemetrys_prometheus_rules() -> None:
    assert prometheus_name("checkout.attempted", "", counter=True) == "checkout_attempted_total"
    assert prometheus_name("storefront.request.duration", "ms") == "storefront_request_duration_milliseconds"
    assert prometheus_name("checkout.failed.revenue", "USD", counter=True) == "checkout_failed_revenue_usd_total"
    assert prometheus_name("db.pool.waiting", "1", counter=False) == "db_pool_waiting"
