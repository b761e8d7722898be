"""A scenario's alert as a Prometheus rules file, over the metrics every stack exposes
(scenarios/metrics.py), for a given length of the demo minute.

The seed's Flow Alert chains two alerts: the catalog's p95 above its threshold and the share of
checkouts failing above its rate. Each is a rule of its own here (what a backend's flow alert
chains); the flow rule is both at once. Both are taken over the alert's window (two demo
minutes: one compressed minute holds a dozen checkouts, too few for a ratio that does not
flicker around 20 %), and the flow rule must hold for `hold_minutes` (`for`), so one burst of
failures cannot fire it on its own. Windows are in demo minutes at any minute length. The result is plain
data: JSON text is valid YAML, which is how promtool and Prometheus read it."""

from __future__ import annotations

import json
from typing import Any

from scenarios.metrics import CHECKOUT_ATTEMPTED, CHECKOUT_FAILED, REQUEST_DURATION, prometheus_name
from scenarios.model import Scenario

CATALOG_SERVICE = "product-catalog"
LISTING_ROUTE = "/products"


def evaluation_interval(minute_seconds: float) -> float:
    """Five samples a demo minute (the rules' rate windows span one), 1 s to 15 s apart: how
    often the rules are evaluated and the services scraped."""
    return min(15.0, max(1.0, minute_seconds / 5))


def duration(seconds: float) -> str:
    """A Prometheus duration: whole milliseconds, in the largest unit that divides them."""
    ms = round(seconds * 1000)
    for unit, size in (("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def expressions(scenario: Scenario, minute_seconds: float) -> dict[str, str]:
    """The two conditions' values, each over the alert's window of demo minutes."""
    window = duration(scenario.alert.window_minutes * minute_seconds)
    bucket = prometheus_name(REQUEST_DURATION, "ms") + "_bucket"
    selector = f'service_name="{CATALOG_SERVICE}",http_route="{LISTING_ROUTE}"'
    failed = prometheus_name(CHECKOUT_FAILED, counter=True)
    attempted = prometheus_name(CHECKOUT_ATTEMPTED, counter=True)
    return {
        "catalog_p95_ms": f"histogram_quantile(0.95, sum by (le) (rate({bucket}{{{selector}}}[{window}])))",
        "checkout_error_rate": f"sum(rate({failed}[{window}])) / sum(rate({attempted}[{window}]))",
    }


def rules(scenario: Scenario, minute_seconds: float) -> dict[str, Any]:
    """The rule groups for `scenario` at `minute_seconds` per demo minute."""
    alert, expr = scenario.alert, expressions(scenario, minute_seconds)
    slow = f"({expr['catalog_p95_ms']}) > {alert.catalog_p95_ms_gt:g}"
    failing = f"({expr['checkout_error_rate']}) > {alert.checkout_error_rate_gt:g}"
    labels = {"scenario": scenario.name, "severity": "critical"}
    evaluate = duration(evaluation_interval(minute_seconds))
    return {"groups": [{
        "name": f"bfdemo-{scenario.name}",
        "interval": evaluate,
        "rules": [
            {"alert": "CatalogListingSlow", "expr": slow, "labels": {**labels, "severity": "warning"},
             "annotations": {"summary": f"Catalog p95 above {alert.catalog_p95_ms_gt:g} ms over "
                                        f"{alert.window_minutes} demo minutes"}},
            {"alert": "CheckoutErrorsHigh", "expr": failing, "labels": {**labels, "severity": "warning"},
             "annotations": {"summary": f"Over {alert.checkout_error_rate_gt:.0%} of checkouts failing"}},
            {"alert": alert.name, "expr": f"({slow}) and ({failing})",
             "for": duration(alert.hold_minutes * minute_seconds), "labels": labels,
             "annotations": {"summary": f"{alert.name}: both over {alert.window_minutes} demo minutes, "
                                        f"held for {alert.hold_minutes}"}},
        ],
    }]}


def rules_text(scenario: Scenario, minute_seconds: float) -> str:
    return json.dumps(rules(scenario, minute_seconds), indent=2) + "\n"
