"""Every panel of the scenario's dashboard returns data from a real Prometheus (Debian's)
scraping real services that answered real requests: listings, booked checkouts, and checkouts
that really failed (a row another transaction holds locked makes them give up with 503), so a
misspelt metric or label in scenarios/panels.py is an empty panel here, not in front of the room."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from rehearsal.prometheus import LocalPrometheus, panel_record
from scenarios.catalogue import get_scenario
from scenarios.panels import panels
from services.checkout.main import create_app as checkout_app
from services.load_generator.config import Settings as LoadgenSettings
from services.load_generator.main import create_app as loadgen_app
from services.product_catalog.main import create_app as catalog_app
from services.shared.telemetry import build_telemetry
from tests.scenarios.test_prometheus import promtool
from tests.servers import serve

MINUTE = 5.0  # scraped every second (scenarios.prometheus.evaluation_interval), windows of 5 and 10 s
SHOPPING_SECONDS = 8.0  # past the alert's two-minute window, so every rate has two samples of traffic
SCENARIO = get_scenario("blackfriday")


def _require_prometheus() -> None:
    promtool()  # the same Debian package: skipped or failed as promtool is
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed (make system)")


def _address(url: str) -> str:
    return url.removeprefix("http://")


@contextmanager
def _locked(conninfo: str, product: int) -> Iterator[None]:
    """`product`'s row held FOR UPDATE by a transaction of our own, as a checkout queue would."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT id FROM products WHERE id = %s FOR UPDATE", [product])
        yield
        conn.rollback()


def _shop(catalog: str, checkout: str, conninfo: str, products: list[int], seconds: float) -> dict[int, int]:
    """Listings, booked checkouts and failed ones, for `seconds`; the statuses seen, counted."""
    statuses: dict[int, int] = {}
    booked, hot = products
    order = {"customer_id": "panels", "expected_total": "19.99"}
    line = {"quantity": 1}
    with _locked(conninfo, hot), httpx.Client(timeout=30) as client:
        category = client.get(f"{catalog}/categories").json()[0]
        until = time.time() + seconds
        while time.time() < until:
            answers = [client.get(f"{catalog}/products", params={"category": category, "limit": 5}),
                       *(client.post(f"{checkout}/checkout", json={**order, "items": [{**line, "product_id": i}]})
                         for i in (booked, hot))]
            for answer in answers:
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            time.sleep(0.2)
    return statuses


def _record(workdir: Path, targets: dict[str, str], shop: Any) -> dict[str, Any]:
    prometheus = LocalPrometheus(workdir, SCENARIO, MINUTE, targets).start()
    try:
        start = time.time()
        shop()
        time.sleep(2 * MINUTE / 5)  # two more scrapes: the last requests are in every window
        return panel_record(prometheus, SCENARIO, MINUTE, start)
    finally:
        prometheus.stop()


@pytest.fixture
def storefront(run_service, db) -> dict[str, str]:
    """The catalog and the checkout, whose checkouts give up on a locked row after 200 ms."""
    catalog = run_service(catalog_app)
    checkout = run_service(checkout_app, checkout_lock_timeout_ms=200)
    return {"product-catalog": catalog.url, "checkout": checkout.url}


@pytest.fixture
def products(db) -> list[int]:
    """Two products with stock to spare: one to book, one to hold locked."""
    return [r[0] for r in db.execute("SELECT id FROM products WHERE stock_quantity > 100 ORDER BY id LIMIT 2")]


@pytest.mark.timeout(120)
def test_every_storefront_panel_returns_data_from_real_services(storefront, products, pg, tmp_path: Path) -> None:
    _require_prometheus()
    seen: dict[int, int] = {}
    targets = {name: _address(url) for name, url in storefront.items()}
    record = _record(tmp_path, targets, lambda: seen.update(
        _shop(storefront["product-catalog"], storefront["checkout"], pg.conninfo(), products, SHOPPING_SECONDS)))
    assert seen.get(200) and seen.get(201) and seen.get(503), seen  # listed, booked and failed for real
    assert record["all_returned_data"], record
    storefront_titles = [p.title for p in panels(SCENARIO, MINUTE) if p.source == "storefront"]
    assert all(record["samples"][title] > 0 for title in storefront_titles), record
    assert record["not_scraped"] == [p.title for p in panels(SCENARIO, MINUTE) if p.source == "load-generator"]
    assert record["annotations"][f"{SCENARIO.alert.name} firing"] == 0  # a few seconds of failures fire nothing


@pytest.mark.timeout(120)
def test_every_load_generator_panel_returns_data_from_the_real_generator(storefront, tmp_path: Path) -> None:
    _require_prometheus()
    # The generator's baseline journeys, sent to the real storefront (the cart is not needed:
    # a journey counts when it starts, whatever its requests meet).
    settings = LoadgenSettings(product_catalog_url=storefront["product-catalog"], cart_url=storefront["checkout"],
                               checkout_url=storefront["checkout"], loadgen_baseline=True, demo_mode="off",
                               demo_start_timestamp=None, loadgen_think_time_seconds=0.0)
    with serve(loadgen_app(settings=settings, telemetry=build_telemetry("load-generator"))) as loadgen:
        if httpx.get(f"{loadgen}/metrics", timeout=10).status_code == 404:
            pytest.skip("the load generator serves no GET /metrics yet: its panels cannot be checked")
        targets = {"load-generator": _address(loadgen)}
        record = _record(tmp_path, targets, lambda: _play(loadgen))
    assert record["all_returned_data"], record
    assert record["not_scraped"] == [p.title for p in panels(SCENARIO, MINUTE) if p.source == "storefront"]
    # The timeline's first marker (the scenario's first phase, at minute 0) is drawn.
    assert record["annotations"]["Phase changes"] > 0, record


def _play(loadgen: str) -> None:
    """Two demo minutes of the scenario's timeline, for its minute-0 marker; then the baseline."""
    started = httpx.post(f"{loadgen}/admin/start-demo", timeout=30,
                         json={"scenario": SCENARIO.name, "duration_minutes": 2, "minute_seconds": MINUTE})
    assert started.status_code == 200, started.text
    time.sleep(SHOPPING_SECONDS)
