"""A real Prometheus (Debian's) scrapes a real storefront service's GET /metrics: the text
format is accepted, the series carry the names the rules use, and the rules load."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from rehearsal.processes import wait_for
from rehearsal.prometheus import LocalPrometheus, alert_record
from scenarios.catalogue import get_scenario
from services.product_catalog.main import create_app
from tests.scenarios.test_prometheus import promtool


def test_prometheus_scrapes_the_service_and_loads_the_scenarios_rules(run_service, tmp_path: Path) -> None:
    promtool()  # the same package: skipped or failed as promtool is
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed (make system)")
    catalog = run_service(create_app)
    with catalog.client() as c:
        category = c.get("/categories").json()[0]
        assert c.get("/products", params={"category": category, "limit": 5}).status_code == 200
    prometheus = LocalPrometheus(tmp_path, get_scenario("blackfriday"), 5.0,
                                 {"product-catalog": catalog.url.removeprefix("http://")}).start()
    try:
        def series(query: str) -> list:
            r = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": query}, timeout=5)
            return list(r.json()["data"]["result"])

        count = 'storefront_request_duration_milliseconds_count{service_name="product-catalog",http_route="/products"}'
        found = wait_for(lambda: series(count), 20, interval=0.5, what="the listing's count in Prometheus")
        assert float(found[0]["value"][1]) == 1
        assert series('up{job="product-catalog"} == 1')
        groups = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        names = [rule["name"] for group in groups for rule in group["rules"]]
        assert get_scenario("blackfriday").alert.name in names and len(names) == 3
        assert all(rule["health"] != "err" for group in groups for rule in group["rules"])
    finally:
        prometheus.stop()


def test_a_prometheus_that_cannot_answer_is_reported_not_raised(tmp_path: Path) -> None:
    # The runner asks it just before the restore: a failure here must not stand in the restore's way.
    prometheus = LocalPrometheus(tmp_path, get_scenario("blackfriday"), 10.0, {"product-catalog": "127.0.0.1:1"})
    record = alert_record(prometheus, start=0.0)  # never started: nothing listens on its port
    assert record["error"].startswith("querying prometheus failed") and "first_minute" not in record
