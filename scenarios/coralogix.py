"""A scenario's alert as Coralogix alert definitions: the request bodies of the Alerts API v3,
for a given length of the demo minute.

The seed's Flow Alert chains two alerts, as the Prometheus rules do (scenarios/prometheus.py,
whose rules and PromQL these are built from, never copied): a metric threshold alert on the
catalog's p95, one on the share of checkouts failing, and a Flow Alert that fires when both
have fired within the scenario's alert window (demo minutes at the cluster's minute length).

The API shape follows Coralogix's own REST SDK, coralogix/coralogix-management-sdk:
`go/openapi/cxsdk/config.go` (base URL `https://api.<domain>/mgmt/openapi/5`, header
`Authorization: Bearer <API key>`) and the alert definitions service's OpenAPI document
`go/openapi/gen/alert_definitions_service/api/openapi.yaml`: `POST /alerts/alerts/v3` with
`{"alertDefProperties": ...}` answers `{"alertDef": {"id": ...}}`, `DELETE /alerts/alerts/v3/{id}`;
the schemas `MetricThresholdType` and `FlowType` give the fields below. The Coralogix API
reference (coralogix.com/docs/api-reference, "Alert definitions service") documents the same
paths. Standard library only: the Pulumi program and its dynamic provider both read it."""

from __future__ import annotations

import copy
from typing import Any

from scenarios.model import Scenario
from scenarios.prometheus import duration, expressions, rules

API_VERSION_PATH = "/mgmt/openapi/5"
ALERTS_PATH = "/alerts/alerts/v3"
PRIORITY = {"critical": "ALERT_DEF_PRIORITY_P1", "warning": "ALERT_DEF_PRIORITY_P3"}
MORE_THAN = "METRIC_THRESHOLD_CONDITION_TYPE_MORE_THAN_OR_UNSPECIFIED"
# Coralogix evaluates metric alerts once a minute: a shorter demo minute cannot be its window.
SHORTEST_WINDOW_S = 60.0

Body = dict[str, Any]


def api_base(domain: str) -> str:
    """The management API's base URL for a Coralogix domain (eu2.coralogix.com, or one that
    already starts with api.), as cxsdk's URLFromDomain derives it."""
    host = domain.strip().rstrip("/")
    if not host.startswith("api."):
        host = f"api.{host}"
    return f"https://{host}{API_VERSION_PATH}"


def _flow_rule(scenario: Scenario, minute_seconds: float) -> Body:
    """The Prometheus rules' flow: the rule named as the scenario's alert."""
    group = rules(scenario, minute_seconds)["groups"][0]["rules"]
    return next(r for r in group if r["alert"] == scenario.alert.name)


def _conditions(scenario: Scenario, minute_seconds: float) -> list[tuple[Body, str, float]]:
    """(the Prometheus rule, its PromQL value, its threshold) for each condition the flow chains:
    each rule that is not the flow, matched to the expression it compares."""
    exprs = expressions(scenario, minute_seconds)
    thresholds = {"catalog_p95_ms": scenario.alert.catalog_p95_ms_gt,
                  "checkout_error_rate": scenario.alert.checkout_error_rate_gt}
    found = []
    for rule in rules(scenario, minute_seconds)["groups"][0]["rules"]:
        if rule["alert"] == scenario.alert.name:
            continue
        key = next((k for k, v in exprs.items() if v in rule["expr"]), None)
        if key is None or key not in thresholds:
            raise ValueError(f"rule {rule['alert']} compares no known expression: {rule['expr']}")
        found.append((rule, exprs[key], float(thresholds[key])))
    return found


def _common(rule: Body, kind: str, labels: dict[str, str]) -> Body:
    severity = rule.get("labels", {}).get("severity", "warning")
    return {
        "name": rule["alert"],
        "description": rule.get("annotations", {}).get("summary", ""),
        "enabled": True,
        "priority": PRIORITY.get(severity, PRIORITY["warning"]),
        "type": kind,
        "entityLabels": {**rule.get("labels", {}), **labels},
        "incidentsSettings": {"notifyOn": "NOTIFY_ON_TRIGGERED_AND_RESOLVED"},
    }


def metric_alerts(scenario: Scenario, minute_seconds: float, labels: dict[str, str] | None = None) -> list[Body]:
    """The two metric threshold alerts' `alertDefProperties`: each PromQL value (taken over the
    alert's window) above its threshold throughout the alert's hold, and at least a minute."""
    window = duration(max(SHORTEST_WINDOW_S, scenario.alert.hold_minutes * minute_seconds))
    bodies = []
    for rule, promql, threshold in _conditions(scenario, minute_seconds):
        condition = {"threshold": threshold, "forOverPct": 100, "conditionType": MORE_THAN,
                     "ofTheLast": {"metricTimeWindowDynamicDuration": window}}
        bodies.append({**_common(rule, "ALERT_DEF_TYPE_METRIC_THRESHOLD", labels or {}),
                       "metricThreshold": {"metricFilter": {"promql": promql},
                                           "rules": [{"condition": condition}]}})
    return bodies


def flow_alert(scenario: Scenario, minute_seconds: float, alert_ids: list[str],
               labels: dict[str, str] | None = None) -> Body:
    """The Flow Alert's `alertDefProperties`: one stage, both alerts (AND) within the alert
    window of `scenario.alert.window_minutes` demo minutes."""
    timeframe_ms = round(scenario.alert.window_minutes * minute_seconds * 1000)
    stage = {"flowStagesGroups": {"groups": [{
                 "alertDefs": [{"id": i, "not": False} for i in alert_ids],
                 "alertsOp": "ALERTS_OP_AND_OR_UNSPECIFIED", "nextOp": "NEXT_OP_AND_OR_UNSPECIFIED"}]},
             "timeframeMs": str(timeframe_ms), "timeframeType": "TIMEFRAME_TYPE_UP_TO"}
    return {**_common(_flow_rule(scenario, minute_seconds), "ALERT_DEF_TYPE_FLOW", labels or {}),
            "flow": {"enforceSuppression": False, "stages": [stage]}}


def with_alert_ids(flow: Body, alert_ids: list[str]) -> Body:
    """`flow` (as flow_alert made it) referring to `alert_ids`: the ids exist only once the
    two alerts are created, so the provider fills them in."""
    linked = copy.deepcopy(flow)
    for stage in linked["flow"]["stages"]:
        for group in stage["flowStagesGroups"]["groups"]:
            group["alertDefs"] = [{"id": i, "not": False} for i in alert_ids]
    return linked


def create_request(properties: Body) -> Body:
    """The body of `POST /alerts/alerts/v3`."""
    return {"alertDefProperties": properties}
