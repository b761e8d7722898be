"""GET /live.json, what the presenter page polls: the status, the scenario's timeline, the
storefront's pools and Prometheus' view of the alert, each saying when it is not available;
and the page itself, served without any outside address (it must work offline)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from rehearsal.localpg import free_port
from scenarios.blackfriday import BLACKFRIDAY
from services.load_generator.probes import pool_figures
from tests.servers import serve
from tests.services.load_generator.conftest import LoadGenFactory

FLOW = BLACKFRIDAY.alert.name


@pytest.fixture
def prometheus() -> Iterator[str]:
    """A stand-in for Prometheus' /api/v1/alerts: the flow alert firing, one other pending."""
    app = FastAPI()

    @app.get("/api/v1/alerts")
    async def alerts() -> dict[str, object]:
        return {"status": "success", "data": {"alerts": [
            {"labels": {"alertname": "CatalogListingSlow"}, "state": "pending", "activeAt": "x"},
            {"labels": {"alertname": FLOW}, "state": "firing", "activeAt": "y"}]}}

    with serve(app) as url:
        yield url


def live(url: str) -> dict[str, object]:
    return httpx.get(f"{url}/live.json", timeout=30).json()  # type: ignore[no-any-return]


def test_without_prometheus_it_says_not_configured_and_reads_the_pools(start_loadgen: LoadGenFactory) -> None:
    data = live(start_loadgen(cart_url=f"http://127.0.0.1:{free_port()}").url)
    assert data["prometheus"] == {"state": "not configured", "alert": FLOW, "alerts": []}
    pools = {p["service"]: p for p in data["pools"]}  # type: ignore[attr-defined]
    assert pools["product-catalog"]["state"] == "ok" and pools["product-catalog"]["max"] == 20
    assert pools["cart"]["state"] == "unreachable"
    timeline = data["timeline"]
    assert timeline["alert"]["minute"] == BLACKFRIDAY.alert_event().minute  # type: ignore[index]
    assert [p["name"] for p in timeline["phases"]] == [p.name for p in BLACKFRIDAY.phases]  # type: ignore[index]
    assert data["status"]["phase"] == "idle"  # type: ignore[index]


def test_prometheus_unreachable_or_answering(start_loadgen: LoadGenFactory, prometheus: str) -> None:
    down = live(start_loadgen(prometheus_url=f"http://127.0.0.1:{free_port()}").url)
    assert down["prometheus"]["state"] == "unreachable"  # type: ignore[index]
    up = live(start_loadgen(prometheus_url=prometheus).url)["prometheus"]
    assert up["state"] == "firing" and up["alert"] == FLOW  # type: ignore[index]
    assert {a["name"]: a["state"] for a in up["alerts"]} == {  # type: ignore[index]
        "CatalogListingSlow": "pending", FLOW: "firing"}


def test_the_page_and_its_files_are_served_with_no_outside_address(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen()
    with gen.client() as c:
        for path in ("/", "/live"):
            page = c.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert refs and all(not r.startswith(("http", "//")) for r in refs)
        for ref in refs:
            assert c.get(f"/{ref}").status_code == 200, ref
        assert "http" not in c.get("/static/live.js").text.replace("http://www.w3.org/2000/svg", "")


def test_pool_figures_are_read_from_a_prometheus_exposition() -> None:
    text = ('db_pool_size{pool_name="checkout",service_name="checkout"} 20\n'
            'db_pool_available{pool_name="checkout",service_name="checkout"} 0\n'
            'db_pool_waiting{pool_name="checkout",service_name="checkout"} 7\n'
            'db_pool_max{pool_name="checkout",service_name="checkout"} 20\n'
            'db_pool_timeouts_total{pool_name="checkout",service_name="checkout"} 31\n')
    assert pool_figures(text) == {"size": 20, "available": 0, "waiting": 7, "max": 20, "timeouts": 31}
    assert pool_figures("# nothing\n") is None
