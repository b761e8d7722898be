"""Admin safety beyond tests/services/load_generator/test_loadgen_admin.py (which covers no
header, 'Basic abc' and a wrong bearer token): near-miss tokens, and any Authorization header
hypothesis can think of, are refused with 401/403 and leave the status exactly as it was,
whether a demo runs or not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services.load_generator.config import Settings
from services.load_generator.main import create_app
from services.shared.telemetry import build_telemetry
from tests.servers import serve

TOKEN = "s3cret-token"
DEMO = {"scenario": "blackfriday", "duration_minutes": 30, "peak_rpm": 1, "minute_seconds": 600}
# What must not move when a refused call is made (counters may tick while a demo runs).
STABLE = ("running", "scenario", "phase", "minute_seconds", "start_timestamp", "duration_minutes",
          "peak_rpm", "baseline")


@pytest.fixture
def guarded_loadgen(unreachable_storefront: str) -> Iterator[str]:
    config = Settings(product_catalog_url=unreachable_storefront, cart_url=unreachable_storefront,
                      checkout_url=unreachable_storefront, admin_token=TOKEN, loadgen_baseline=False,
                      demo_mode="off", demo_start_timestamp=None, loadgen_stop_grace_seconds=2.0,
                      loadgen_request_timeout_seconds=2.0)
    app = create_app(settings=config, telemetry=build_telemetry("load-generator", span_processors=[]))
    with serve(app) as url:
        yield url
        httpx.post(f"{url}/admin/stop-demo", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


@pytest.fixture
def unreachable_storefront() -> str:
    from rehearsal.localpg import free_port

    return f"http://127.0.0.1:{free_port()}"


def _stable(url: str) -> dict[str, Any]:
    status = httpx.get(f"{url}/admin/demo-status", timeout=30).json()
    return {k: status.get(k) for k in STABLE}


def _accepted(header: str) -> bool:
    """The one shape that must pass: the Bearer scheme (any case) and exactly the token."""
    scheme, _, given_ = header.partition(" ")
    return scheme.lower() == "bearer" and given_.strip() == TOKEN


def _refused_and_nothing_changed(url: str, headers: dict[str, str]) -> None:
    before = _stable(url)
    for path, body in (("/admin/start-demo", DEMO), ("/admin/stop-demo", None)):
        r = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=30)
        assert r.status_code in (401, 403), (path, headers, r.status_code, r.text)
        detail = r.json()["detail"]
        assert detail.endswith(".") and "nothing was changed" in detail
        assert TOKEN not in r.text
    assert _stable(url) == before


@pytest.mark.parametrize("invalid", ["missing_authorization", "empty_bearer", "token_as_basic",
                                     "token_without_scheme", "token_prefix_only", "token_with_suffix",
                                     "token_wrong_case"])
@pytest.mark.parametrize("demo_running", [False, True], ids=["idle", "demo-running"])
def test_near_miss_credentials_are_refused_and_change_nothing(
    invalid: str, demo_running: bool, request: pytest.FixtureRequest, guarded_loadgen: str,
) -> None:
    if demo_running:
        started = httpx.post(f"{guarded_loadgen}/admin/start-demo", json=DEMO,
                             headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert started.status_code == 200, started.text
    _refused_and_nothing_changed(guarded_loadgen, request.getfixturevalue(invalid))
    assert _stable(guarded_loadgen)["running"] is demo_running


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
HEADERS = st.one_of(HEADER_TEXT, st.builds(lambda s, t: f"{s} {t}", st.sampled_from(
    ["Bearer", "bearer", "BEARER", "Basic", "Token", ""]), HEADER_TEXT | st.sampled_from(
    [TOKEN[:-1], TOKEN + " x", TOKEN.upper(), f"{TOKEN}\t", f" {TOKEN}x"])))


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_no_authorization_header_but_the_token_starts_or_stops_anything(guarded_loadgen: str) -> None:
    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(header=HEADERS)
    def check(header: str) -> None:
        assume(not _accepted(header) and header.strip() == header)  # httpx strips edges anyway
        _refused_and_nothing_changed(guarded_loadgen, {"Authorization": header})

    check()
    assert _stable(guarded_loadgen)["running"] is False
