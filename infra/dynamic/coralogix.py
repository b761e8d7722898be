"""The scenario's alerts in Coralogix, through its Alerts API v3 (see scenarios/coralogix.py
for the API shape and its sources): `create` posts the two metric alerts, then the Flow Alert
referring to the ids Coralogix gave them; `delete` deletes the three in reverse order. A change
of any body or of the API's URL replaces them; a new API key alone is only stored.

Only the standard library's urllib: this runs in the Pulumi plugin process, and the program
loads no HTTP client. The API key travels as a secret input and stays a secret output (it is
needed again by `delete`); no message, log line or exception carries it."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from scenarios.coralogix import ALERTS_PATH, create_request, with_alert_ids

TIMEOUT_S = 30
REPLACING = ("url", "alerts", "flow")


class CoralogixError(Exception):
    pass


def _message(body: bytes) -> str:
    """Coralogix's own words: the JSON error's `message` (or `error`), else the text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:500] or "(empty body)"
    if isinstance(parsed, dict):
        return str(parsed.get("message") or parsed.get("error") or text)[:500]
    return text[:500]


def call(url: str, key: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One API call; its JSON answer. Errors name the method, path, status and message."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url.rstrip("/") + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (https, or a test's loopback)
            raw = response.read()
    except urllib.error.HTTPError as err:
        raise CoralogixError(f"Coralogix answered {method} {path} with HTTP {err.code}: "
                             f"{_message(err.read())}") from None
    except urllib.error.URLError as err:
        raise CoralogixError(f"cannot reach the Coralogix API at {url}: {err.reason}") from None
    return json.loads(raw) if raw.strip() else {}


def create_alert(url: str, key: str, properties: dict[str, Any]) -> str:
    answer = call(url, key, "POST", ALERTS_PATH, create_request(properties))
    alert_id = (answer.get("alertDef") or {}).get("id")
    if not alert_id:
        raise CoralogixError(f"Coralogix created '{properties.get('name')}' but returned no alertDef.id")
    return str(alert_id)


def delete_alert(url: str, key: str, alert_id: str) -> None:
    """Deletes one alert definition; one already gone (404) is what was wanted."""
    try:
        call(url, key, "DELETE", f"{ALERTS_PATH}/{alert_id}")
    except CoralogixError as err:
        if "HTTP 404" not in str(err):
            raise


def create_all(url: str, key: str, alerts: list[dict[str, Any]], flow: dict[str, Any]) -> list[str]:
    """The alerts, then the flow over their ids: [alert ids..., flow id]. On a failure, what was
    created is deleted again (in reverse) before the error is raised."""
    ids: list[str] = []
    try:
        for properties in alerts:
            ids.append(create_alert(url, key, properties))
        ids.append(create_alert(url, key, with_alert_ids(flow, list(ids))))
    except CoralogixError:
        for alert_id in reversed(ids):
            with contextlib.suppress(CoralogixError):  # the first error is the one to show
                delete_alert(url, key, alert_id)
        raise
    return ids


class CoralogixAlertsProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        ids = create_all(props["url"], props["api_key"], props["alerts"], props["flow"])
        return CreateResult(id_=ids[-1], outs={**props, "ids": ids})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACING if olds.get(k) != news.get(k)]
        changed = bool(replaces) or olds.get("api_key") != news.get("api_key")
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={**news, "ids": olds.get("ids", [])})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        for alert_id in reversed(props.get("ids") or []):
            delete_alert(props["url"], props["api_key"], alert_id)


class CoralogixAlerts(pulumi.dynamic.Resource, module="coralogix", name="Alerts"):
    """The metric alerts and the Flow Alert over them; `ids` in creation order, the flow last."""

    ids: pulumi.Output[list[str]]

    def __init__(self, name: str, *, url: pulumi.Input[str], api_key: pulumi.Input[str],
                 alerts: list[dict[str, Any]], flow: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        props = {"url": url, "api_key": api_key, "alerts": alerts, "flow": flow, "ids": None}
        secret = pulumi.ResourceOptions(additional_secret_outputs=["api_key"])
        super().__init__(CoralogixAlertsProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
