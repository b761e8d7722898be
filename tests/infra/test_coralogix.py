"""The Coralogix alerts: their bodies from the scenario, the dynamic provider against a real
local HTTP server standing in for the Alerts API v3, and the component under the mocks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.config import ConfigError
from infra.dynamic.coralogix import CoralogixAlertsProvider, CoralogixError
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.coralogix import ALERTS_PATH, api_base, create_request, flow_alert, metric_alerts, with_alert_ids
from scenarios.prometheus import expressions
from tests.infra.conftest import Run, run_program

KEY = "cx-alerts-api-key-SECRET-91d2"
BASE = "/mgmt/openapi/5"
DYNAMIC = "pulumi-python:dynamic/coralogix:Alerts"


@dataclass
class FakeCoralogix:
    """What the server saw, and how it answers: ids in order, or one error for one request."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_at: int | None = None  # index of the request to answer with `error`
    error: tuple[int, bytes] = (401, b'{"code": 401, "message": "Unauthorized: invalid API key"}')
    url: str = ""

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        self.requests.append({"method": handler.command, "path": handler.path,
                              "auth": handler.headers.get("Authorization"),
                              "body": json.loads(raw) if raw else None})
        status, body = 200, b"{}"
        if self.fail_at == len(self.requests) - 1:
            status, body = self.error
        elif handler.command == "POST":
            posted = sum(r["method"] == "POST" for r in self.requests)
            body = json.dumps({"alertDef": {"id": f"alert-{posted}", "alertDefProperties": {}}}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def fake_api() -> Iterator[FakeCoralogix]:
    fake = FakeCoralogix()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's names)
            fake.answer(self)

        def do_DELETE(self) -> None:  # noqa: N802
            fake.answer(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{BASE}"
    yield fake
    server.shutdown()
    server.server_close()


def _props(url: str) -> dict[str, Any]:
    return {"url": url, "api_key": KEY, "alerts": metric_alerts(BLACKFRIDAY, 60),
            "flow": flow_alert(BLACKFRIDAY, 60, []), "ids": None}


def test_the_metric_alerts_use_the_rules_promql_and_the_scenario_thresholds() -> None:
    catalog, checkout = metric_alerts(BLACKFRIDAY, 10)
    exprs = expressions(BLACKFRIDAY, 10)
    assert catalog["metricThreshold"]["metricFilter"]["promql"] == exprs["catalog_p95_ms"]
    assert checkout["metricThreshold"]["metricFilter"]["promql"] == exprs["checkout_error_rate"]
    conditions = [a["metricThreshold"]["rules"][0]["condition"] for a in (catalog, checkout)]
    assert [c["threshold"] for c in conditions] == [BLACKFRIDAY.alert.catalog_p95_ms_gt,
                                                    BLACKFRIDAY.alert.checkout_error_rate_gt]
    assert {c["conditionType"] for c in conditions} == {"METRIC_THRESHOLD_CONDITION_TYPE_MORE_THAN_OR_UNSPECIFIED"}
    assert {a["type"] for a in (catalog, checkout)} == {"ALERT_DEF_TYPE_METRIC_THRESHOLD"}


@pytest.mark.parametrize("minute_seconds", [6, 10, 60])
def test_the_flow_fires_when_both_fire_within_the_alert_window(minute_seconds: int) -> None:
    flow = flow_alert(BLACKFRIDAY, minute_seconds, ["a", "b"])
    assert flow["name"] == BLACKFRIDAY.alert.name and flow["type"] == "ALERT_DEF_TYPE_FLOW"
    [stage] = flow["flow"]["stages"]
    [group] = stage["flowStagesGroups"]["groups"]
    assert [d["id"] for d in group["alertDefs"]] == ["a", "b"]
    assert group["alertsOp"] == "ALERTS_OP_AND_OR_UNSPECIFIED"
    assert stage["timeframeMs"] == str(BLACKFRIDAY.alert.window_minutes * minute_seconds * 1000)
    assert with_alert_ids(flow_alert(BLACKFRIDAY, minute_seconds, []), ["a", "b"]) == flow


def test_the_api_base_is_derived_from_the_domain() -> None:
    assert api_base("eu2.coralogix.com") == "https://api.eu2.coralogix.com/mgmt/openapi/5"
    assert api_base("api.coralogix.us") == "https://api.coralogix.us/mgmt/openapi/5"


def test_create_posts_the_alerts_then_the_flow_over_their_ids(fake_api: FakeCoralogix) -> None:
    props = _props(fake_api.url)
    result = CoralogixAlertsProvider().create(props)
    assert [(r["method"], r["path"]) for r in fake_api.requests] == [("POST", BASE + ALERTS_PATH)] * 3
    assert {r["auth"] for r in fake_api.requests} == {f"Bearer {KEY}"}
    bodies = [r["body"] for r in fake_api.requests]
    assert bodies[:2] == [create_request(a) for a in props["alerts"]]
    assert bodies[2] == create_request(flow_alert(BLACKFRIDAY, 60, ["alert-1", "alert-2"]))
    assert result.outs["ids"] == ["alert-1", "alert-2", "alert-3"]
    assert result.id == "alert-3"


def test_delete_deletes_the_flow_first_then_the_alerts(fake_api: FakeCoralogix) -> None:
    props = {**_props(fake_api.url), "ids": ["alert-1", "alert-2", "alert-3"]}
    CoralogixAlertsProvider().delete("alert-3", props)
    assert [(r["method"], r["path"]) for r in fake_api.requests] == [
        ("DELETE", f"{BASE}{ALERTS_PATH}/alert-3"), ("DELETE", f"{BASE}{ALERTS_PATH}/alert-2"),
        ("DELETE", f"{BASE}{ALERTS_PATH}/alert-1")]
    assert {r["auth"] for r in fake_api.requests} == {f"Bearer {KEY}"}


def test_an_error_names_the_status_and_coralogix_message_never_the_key(fake_api: FakeCoralogix) -> None:
    fake_api.fail_at = 0
    with pytest.raises(CoralogixError) as err:
        CoralogixAlertsProvider().create(_props(fake_api.url))
    message = str(err.value)
    assert "HTTP 401" in message and "Unauthorized: invalid API key" in message
    assert f"POST {ALERTS_PATH}" in message and KEY not in message
    assert len(fake_api.requests) == 1


def test_a_failed_flow_deletes_the_alerts_it_needed(fake_api: FakeCoralogix) -> None:
    fake_api.fail_at = 2
    fake_api.error = (400, b'{"code": 400, "message": "Bad Request: invalid flow"}')
    with pytest.raises(CoralogixError, match="HTTP 400: Bad Request: invalid flow"):
        CoralogixAlertsProvider().create(_props(fake_api.url))
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in fake_api.requests[3:]] == [
        ("DELETE", "alert-2"), ("DELETE", "alert-1")]


def test_an_alert_already_gone_is_deleted(fake_api: FakeCoralogix) -> None:
    fake_api.fail_at = 0
    fake_api.error = (404, b"Not Found: no alert definition with the given id")
    CoralogixAlertsProvider().delete("x", {**_props(fake_api.url), "ids": ["alert-1", "alert-2"]})
    assert len(fake_api.requests) == 2


def test_an_unreachable_api_is_said() -> None:
    with pytest.raises(CoralogixError, match="cannot reach the Coralogix API at http://127.0.0.1:9"):
        CoralogixAlertsProvider().create(_props("http://127.0.0.1:9"))


def test_a_changed_body_replaces_and_a_new_key_is_only_stored() -> None:
    provider, old = CoralogixAlertsProvider(), {**_props("https://x"), "ids": ["1", "2", "3"]}
    slower = {**old, "alerts": metric_alerts(BLACKFRIDAY, 10)}
    assert provider.diff("3", old, slower).replaces == ["alerts"]
    rekeyed = provider.diff("3", old, {**old, "api_key": "another"})
    assert rekeyed.changes and not rekeyed.replaces
    assert provider.update("3", old, {**old, "api_key": "another"}).outs["ids"] == ["1", "2", "3"]
    assert not provider.diff("3", old, dict(old)).changes


def _alerted() -> Run:
    return run_program({"coralogixAlerts": "true", "coralogixApiKey": KEY, "demoMinuteSeconds": "10"},
                       secret_keys=("coralogixApiKey",))


def test_no_coralogix_alert_unless_asked(baseline: Run, coralogix: Run) -> None:
    for run in (baseline, coralogix):  # the exporter alone does not create alerts
        assert run.of_type(DYNAMIC) == []
        assert run.outputs["alerts"]["coralogix"] is None


def test_the_component_creates_the_alerts_with_the_key_as_a_secret() -> None:
    run = _alerted()
    [alerts] = run.of_type(DYNAMIC)
    assert alerts.inputs["url"] == "https://api.eu2.coralogix.com/mgmt/openapi/5"
    assert alerts.inputs["alerts"] == metric_alerts(BLACKFRIDAY, 10, {"bfdemo-stack": "bfdemo/demo"})
    assert alerts.inputs["flow"]["name"] == BLACKFRIDAY.alert.name
    assert alerts.inputs["api_key"] == KEY  # the mocks unwrap secrets; the engine keeps it one
    assert alerts.parent.endswith("bfdemo:coralogix:FlowAlert::coralogix-alert")
    assert run.outputs["alerts"]["coralogix"] == {
        "flowAlert": BLACKFRIDAY.alert.name, "alerts": ["CatalogListingSlow", "CheckoutErrorsHigh"],
        "domain": "eu2.coralogix.com"}
    assert KEY not in json.dumps(run.outputs) and "alerts" not in run.secret_outputs


def test_asking_without_the_key_fails_the_preview_naming_it() -> None:
    with pytest.raises(ConfigError) as err:
        run_program({"coralogixAlerts": "true"}, preview=True)
    assert "config key 'coralogixAlerts'" in str(err.value)
    assert "pulumi config set --secret coralogixApiKey" in str(err.value)
