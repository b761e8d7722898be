"""The admin API: sentences for bad bodies, 409s, the token, the baseline hand-over."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from rehearsal.processes import wait_for
from services.load_generator.config import Settings
from services.load_generator.main import create_app
from tests.services.load_generator.conftest import FakeStorefront, LoadGenFactory

VALID = {"scenario": "blackfriday", "duration_minutes": 30, "peak_rpm": 120, "minute_seconds": 2}
STATUS_KEYS = {"running", "scenario", "minute", "phase", "minute_seconds", "target_rpm",
               "achieved_rpm", "requests", "errors", "error_rate", "p95_ms", "checkout_attempts",
               "checkout_failures", "alert", "minutes"}
MINUTE_KEYS = {"minute", "phase", "target_rpm", "achieved_rpm", "journeys", "requests", "errors",
               "error_rate", "p95_ms", "catalog_p95_ms", "checkout_attempts", "checkout_failures"}


@pytest.mark.parametrize("invalid", [
    "unknown_scenario", "negative_peak_rpm", "fractional_duration", "zero_minute_seconds",
    "text_start_timestamp", "misspelled_field", "body_not_an_object", "scenario_already_over",
])
def test_bad_bodies_get_a_sentence_naming_the_field(
    invalid: str, request: pytest.FixtureRequest, start_loadgen: LoadGenFactory,
) -> None:
    body, field = request.getfixturevalue(invalid)
    gen = start_loadgen()
    with gen.client() as c:
        answer = c.post("/admin/start-demo", json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and f"{field}" in detail and detail.endswith(".")
    assert "allowed" in detail or field in ("start_timestamp", "request body")
    assert gen.status()["running"] is False


def test_unknown_scenario_lists_the_allowed_ones(
    unknown_scenario: tuple[Any, str], start_loadgen: LoadGenFactory,
) -> None:
    with start_loadgen().client() as c:
        detail = c.post("/admin/start-demo", json=unknown_scenario[0]).json()["detail"]
    assert "cyber_monday" in detail and "allowed values: one of: blackfriday" in detail


def test_start_twice_is_409_and_stop_twice_is_409(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen()
    with gen.client() as c:
        started = c.post("/admin/start-demo", json=VALID)
        assert started.status_code == 200 and started.json()["running"] is True
        again = c.post("/admin/start-demo", json=VALID)
        assert again.status_code == 409 and "already running" in again.json()["detail"]
        stopped = c.post("/admin/stop-demo")
        assert stopped.status_code == 200 and stopped.json()["stopped"] is True
        assert stopped.json()["running"] is False and stopped.json()["phase"] == "stopped"
        assert c.post("/admin/stop-demo").status_code == 409
        assert c.post("/admin/start-demo", json=VALID).status_code == 200  # a new demo may start


def test_concurrent_starts_let_exactly_one_through(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen()
    codes: list[int] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        codes.append(httpx.post(f"{gen.url}/admin/start-demo", json=VALID, timeout=30).status_code)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409, 409, 409, 409, 409]


def test_status_has_the_seeds_fields(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen()
    idle = gen.status()
    assert set(idle) >= STATUS_KEYS and idle["running"] is False and idle["minutes"] == []
    with gen.client() as c:
        c.post("/admin/start-demo", json={**VALID, "minute_seconds": 0.5, "peak_rpm": 600})
        wait_for(lambda: len(gen.status()["minutes"]) >= 3, timeout=10)
        status = gen.status()
    assert set(status) >= STATUS_KEYS and status["scenario"] == "blackfriday"
    assert status["phase"] == "ramp" and status["minute_seconds"] == 0.5
    assert status["alert"] == {"fired": False, "first_minute": None}
    first = status["minutes"][0]
    assert set(first) >= MINUTE_KEYS and first["minute"] == 0 and first["complete"] is True
    assert first["target_rpm"] == pytest.approx(172.5)  # 600/120 * average of 30 -> 39
    assert status["minutes"][-1]["complete"] is False
    assert status["reverts_at"] is None  # no DEMO_REVERT_AT: nothing restores by itself


def test_status_says_when_a_forgotten_scenario_reverts(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen(demo_revert_at=1764343800)
    assert gen.status()["reverts_at"] == "2025-11-28T15:30:00Z"


@pytest.mark.parametrize(("header", "code"), [(None, 401), ("Basic abc", 401), ("Bearer nope", 403)])
def test_token_guards_the_mutating_endpoints_and_changes_nothing(
    header: str | None, code: int, start_loadgen: LoadGenFactory,
) -> None:
    gen = start_loadgen(admin_token="s3cret-token")
    headers = {"Authorization": header} if header else {}
    with httpx.Client(base_url=gen.url, headers=headers, timeout=30) as anyone:
        refused = anyone.post("/admin/start-demo", json=VALID)
        assert refused.status_code == code and "nothing was changed" in refused.json()["detail"]
        assert "s3cret" not in refused.text
        assert gen.status()["running"] is False           # status is readable without a token
        with gen.client(token="s3cret-token") as admin:
            assert admin.post("/admin/start-demo", json=VALID).status_code == 200
        assert anyone.post("/admin/stop-demo").status_code == code
        assert gen.status()["running"] is True
    with gen.client(token="s3cret-token") as admin:
        assert admin.post("/admin/stop-demo").status_code == 200


def test_baseline_runs_when_no_demo_does(
    storefront: FakeStorefront, start_loadgen: LoadGenFactory,
) -> None:
    gen = start_loadgen(loadgen_baseline=True)
    status = gen.status()
    assert status["phase"] == "baseline" and status["baseline"]["running"] is True
    assert status["baseline"]["rpm"] == 12.0
    assert wait_for(lambda: storefront.listings(), timeout=8), "no baseline journey arrived"
    with gen.client() as c:
        c.post("/admin/start-demo", json=VALID)
        assert gen.status()["baseline"] == {"running": False}     # the demo replaces it
        c.post("/admin/stop-demo")
    assert gen.status()["baseline"]["running"] is True             # and stopping brings it back


def test_health_and_ready(start_loadgen: LoadGenFactory) -> None:
    gen = start_loadgen()
    assert httpx.get(f"{gen.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{gen.url}/ready").json()
    assert ready["status"] == "ready" and ready["running"] is False


def test_bad_calibration_fails_at_startup_with_a_sentence(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="CALIBRATION_JSON is not a calibration"):
        create_app(Settings(calibration_json='{"products": 1}'))
    with pytest.raises(ValueError, match="cannot be read"):
        create_app(Settings(calibration_file=tmp_path / "missing.json"))
    good = tmp_path / "cal.json"
    good.write_text('{"products": 10, "catalog_capacity_qps": 2.0, "lock_throughput_per_s": 1.0}')
    assert Settings(calibration_file=good).calibration() is not None
