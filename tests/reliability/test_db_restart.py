"""PostgreSQL stopped and started again under the storefront: while it is down every answer is
a 503 with a reason, afterwards the same service processes answer again, and no checkout
attempted across the outage is half-written."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from rehearsal.localpg import LocalPostgres
from rehearsal.processes import wait_for
from scenarios.blackfriday import BLACKFRIDAY
from services.cart.main import create_app as cart_app
from services.checkout.main import create_app as checkout_app
from services.product_catalog.main import create_app as catalog_app
from tests.reliability.conftest import stock_ledger

REASONS = {"database_unavailable", "pool_exhausted"}
SCENARIO_POOL = {k: BLACKFRIDAY.config_values(scenario_active=True)[k.upper()]
                 for k in ("db_max_connections", "db_connection_timeout")}


@dataclass
class Storefront:
    urls: dict[str, str]
    orders_before: int = 0
    checkout_probes: list[httpx.Response] = field(default_factory=list)

    def probe(self, name: str) -> httpx.Response:
        """One cheap request that needs the database."""
        with httpx.Client(base_url=self.urls[name], timeout=30) as c:
            if name == "product-catalog":
                return c.get("/products", params={"category": "toys/sub01", "limit": 5})
            if name == "cart":
                return c.post("/carts")
            r = c.post("/checkout", json={"customer_id": "probe", "items": [{"product_id": 7, "quantity": 1}]})
            self.checkout_probes.append(r)
            return r


@pytest.fixture
def storefront(dedicated_pg: LocalPostgres, run_service: Callable[..., Any]) -> Storefront:
    """The three storefront services on the dedicated server, with the scenario's pool config."""
    overrides = {"db_port": dedicated_pg.port, **SCENARIO_POOL}
    orders_before = stock_ledger(dedicated_pg.conninfo())["orders"]
    factories = {"product-catalog": catalog_app, "cart": cart_app, "checkout": checkout_app}
    urls = {name: run_service(factory, **overrides).url for name, factory in factories.items()}
    return Storefront(urls=urls, orders_before=orders_before)


@dataclass
class Shoppers:
    """Threads placing two-line checkouts without pause, recording every answer."""

    url: str
    answers: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def run(self, worker: int) -> None:
        n = 0
        with httpx.Client(base_url=self.url, timeout=60) as c:
            while not self.stop.is_set():
                n += 1
                a, b = 10 + (worker * 37 + n) % 150, 200 + (worker * 53 + n) % 150
                r = c.post("/checkout", json={"customer_id": f"w{worker}-{n}", "items": [
                    {"product_id": a, "quantity": 1}, {"product_id": b, "quantity": 2}]})
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                self.answers.append((time.time(), r.status_code, body))

    def count(self, status: int, after: float = 0.0) -> int:
        return sum(1 for t, s, _ in self.answers if s == status and t >= after)


@pytest.fixture
def shoppers(storefront: Storefront) -> Iterator[Shoppers]:
    crowd = Shoppers(storefront.urls["checkout"])
    crowd.threads = [threading.Thread(target=crowd.run, args=(i,), daemon=True) for i in range(3)]
    for t in crowd.threads:
        t.start()
    yield crowd
    crowd.stop.set()
    for t in crowd.threads:
        t.join(60)


def _sentence_503(r: httpx.Response) -> bool:
    body = r.json()
    return (r.status_code == 503 and body.get("error") in REASONS and isinstance(body.get("detail"), str)
            and body["detail"].endswith("."))


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_database_restart_gives_503_with_a_reason_then_recovers_without_a_service_restart(
    dedicated_pg: LocalPostgres, storefront: Storefront, shoppers: Shoppers,
) -> None:
    for name in storefront.urls:
        r = storefront.probe(name)
        assert r.status_code in (200, 201), (name, r.status_code, r.text)
    wait_for(lambda: shoppers.count(201) >= 5, timeout=30, what="checkouts succeeding before the outage")

    dedicated_pg.stop("fast")
    down_at = time.time()
    seen: dict[str, httpx.Response] = {}
    for name in storefront.urls:
        # Poll the real answers until the service reports the outage (bounded by the 5 s pool timeout).
        deadline = time.monotonic() + 45
        while name not in seen:
            r = storefront.probe(name)
            assert r.status_code < 500 or r.status_code == 503, (name, r.status_code, r.text)
            if r.status_code == 503:
                seen[name] = r
            assert time.monotonic() < deadline, f"{name} never reported the outage; last {r.status_code}"
    assert not dedicated_pg.is_running(), "the database came back by itself?"
    for name, r in seen.items():
        assert _sentence_503(r), (name, r.status_code, r.text)

    dedicated_pg.start()  # same data directory, same port
    up_at = time.time()
    for name in storefront.urls:
        def answers(name: str = name) -> bool:
            r = storefront.probe(name)
            assert r.status_code in (200, 201) or _sentence_503(r), (name, r.status_code, r.text)
            return r.status_code in (200, 201)
        wait_for(answers, timeout=60, interval=0.2, what=f"{name} answering again after the restart")
    wait_for(lambda: shoppers.count(201, after=up_at) >= 3, timeout=60,
               what="checkouts succeeding again after the restart")
    shoppers.stop.set()
    for t in shoppers.threads:
        t.join(60)

    statuses = {s for _, s, _ in shoppers.answers}
    assert statuses <= {201, 503}, statuses
    failed = [b for _, s, b in shoppers.answers if s == 503]
    assert failed, "no checkout was attempted while the database was down"
    assert all(b.get("error") in REASONS and str(b.get("detail", "")).endswith(".") for b in failed), failed[:3]
    assert any(down_at <= t <= up_at for t, s, _ in shoppers.answers if s == 503)

    # All or nothing: each order has its lines, every unit sold is accounted for.
    after = stock_ledger(dedicated_pg.conninfo())
    assert after["unbalanced_products"] == 0 and after["orders_without_lines"] == 0, after
    assert after["orders_with_wrong_total"] == 0, after
    new_orders = after["orders"] - storefront.orders_before
    # A 503 'database_unavailable' may hide a commit whose answer was lost with the connection;
    # a 201 is always an order, and nothing else may be.
    answers = [(s, b) for _, s, b in shoppers.answers] + [(r.status_code, r.json()) for r in storefront.checkout_probes]
    ok = sum(1 for s, _ in answers if s == 201)
    unknown = sum(1 for s, b in answers if s == 503 and b.get("error") == "database_unavailable")
    assert ok <= new_orders <= ok + unknown, (new_orders, ok, unknown)
