"""Writes docs/images/presenter-page.png: the presenter page as a projector shows it, in the
middle of the outage. `python -m tests.services.load_generator.screenshot [PATH]` (from the
repository's root, in the venv; needs Debian's chromium).

The load generator plays blackfriday at 4-second minutes, joined at minute 14, against the fake
storefront made slow (2.2 s answers: catalog p95 over the alert's 2 s) and, from minute 20,
refusing checkouts (503), so the page shows the alert as our evaluator fires it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from rehearsal.localpg import free_port
from rehearsal.processes import wait_for
from services.load_generator.config import Settings
from services.load_generator.main import create_app
from tests.servers import serve
from tests.services.load_generator import chromium
from tests.services.load_generator.conftest import FAKE, FakeStorefront

MS = 4.0
DEFAULT = Path("docs/images/presenter-page.png")


def _storefront(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, str(FAKE), str(port)])
    wait_for(lambda: _answers(f"http://127.0.0.1:{port}/_fake/seen"), 30, what="the fake storefront")
    return proc


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def take(path: Path) -> Path:
    port = free_port()
    proc = _storefront(port)
    fake = FakeStorefront(f"http://127.0.0.1:{port}")
    try:
        fake.set(reset=True, latency=2.2, checkout_status=201)
        settings = Settings(product_catalog_url=fake.url, cart_url=fake.url, checkout_url=fake.url,
                            loadgen_baseline=False, loadgen_think_time_seconds=0.0)
        with serve(create_app(settings=settings)) as url:
            start = time.time() - 14 * MS
            httpx.post(f"{url}/admin/start-demo", timeout=30, json={
                "scenario": "blackfriday", "minute_seconds": MS, "start_timestamp": start}).raise_for_status()
            time.sleep(max(0.0, start + 20 * MS - time.time()))
            fake.set(checkout_status=503)
            time.sleep(max(0.0, start + 24.5 * MS - time.time()))
            return chromium.screenshot(f"{url}/live", path)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    print(take(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
