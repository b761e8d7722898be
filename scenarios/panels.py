"""The dashboard the room watches, as data: each panel's PromQL over the metrics every stack
exposes (scenarios/metrics.py), generated for a scenario and a demo-minute length like the alert
rules (scenarios/prometheus.py), whose expressions the latency and checkout panels reuse, so the
line the room sees is the line the alert judges. A renderer (dashboards/) turns this into
Grafana's JSON; the rehearsal runs every query against a real Prometheus.

Every window is one demo minute, and counters are shown as their increase over it: "per demo
minute" reads the same at 6-, 10- and 60-second minutes. No expression uses a Grafana variable
($__rate_interval and the like), so each can be sent to Prometheus as it stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scenarios.metrics import (
    CHECKOUT_LOST_REVENUE,
    CHECKOUT_REVENUE,
    DEMO_MARKER,
    LOADGEN_JOURNEYS,
    LOADGEN_TARGET_RPM,
    POOL_TIMEOUTS,
    POOL_WAITING,
    REQUEST_DURATION,
    prometheus_name,
)
from scenarios.model import Scenario
from scenarios.prometheus import duration, expressions

Kind = Literal["timeseries", "stat"]
# Units by meaning; the renderer maps them to its own (Grafana: ms, percentunit, currencyUSD).
Unit = Literal["ms", "ratio", "USD", "count"]
# Which process serves a panel's metrics: a Prometheus that scrapes only the storefront has no
# load-generator series, and the query check says so rather than calling the panel empty.
Source = Literal["storefront", "load-generator"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: Unit
    kind: Kind = "timeseries"
    # Lines the room should watch: the alert's own thresholds, red above.
    thresholds: tuple[float, ...] = ()
    description: str = ""
    source: Source = "storefront"


@dataclass(frozen=True)
class Annotation:
    name: str
    expr: str
    title: str  # Grafana's titleFormat: {{label}} is the series' label
    color: str
    source: Source = "load-generator"


def _per_minute(metric: str, window: str, by: str = "") -> str:
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(increase({metric}[{window}]))"


def _requests(window: str, matcher: str = "") -> str:
    count = prometheus_name(REQUEST_DURATION, "ms") + "_count"
    selector = f"{count}{{{matcher}}}" if matcher else count
    return f"sum(rate({selector}[{window}]))"


def traffic_panels(scenario: Scenario, window: str) -> tuple[Panel, ...]:
    # The timeline's target is in journeys per real minute (the same regime at any minute length),
    # one gauge per replica: the started journeys are scaled to match, over the last demo minute.
    journeys = prometheus_name(LOADGEN_JOURNEYS, counter=True)
    started = Query(f"sum(rate({journeys}[{window}])) * 60", "journeys started")
    target = Query(f"sum({prometheus_name(LOADGEN_TARGET_RPM)})", "target")
    by_kind = Query(f"sum by (journey) (rate({journeys}[{window}])) * 60", "{{journey}}")
    return (
        Panel("Journeys per minute against target", (started, target), "count", source="load-generator",
              description=f"Journeys started per minute over the last demo minute, against {scenario.name}'s "
                          "timeline."),
        Panel("Journeys per minute by kind", (by_kind,), "count", source="load-generator",
              description="Browse, cart and checkout journeys started per minute."),
    )


def storefront_panels(scenario: Scenario, minute_seconds: float) -> tuple[Panel, ...]:
    alert, window, expr = scenario.alert, duration(minute_seconds), expressions(scenario, minute_seconds)
    failing = 'http_response_status_code=~"5.."'
    errors = f"{_requests(window, failing)} / {_requests(window)}"
    p95 = Query(expr["catalog_p95_ms"], "catalog /products p95")
    checkout = Query(expr["checkout_error_rate"], "checkouts failing")
    lost = Query(_per_minute(prometheus_name(CHECKOUT_LOST_REVENUE, "USD", counter=True), window), "lost")
    booked = Query(_per_minute(prometheus_name(CHECKOUT_REVENUE, "USD", counter=True), window), "booked")
    return (
        Panel("Catalog p95 now", (p95,), "ms", "stat", (alert.catalog_p95_ms_gt,)),
        Panel("Checkouts failing now", (checkout,), "ratio", "stat", (alert.checkout_error_rate_gt,)),
        # Red from the first cent lost (a threshold colours values at or above it: 0 stays green).
        Panel("Lost revenue, last demo minute", (lost,), "USD", "stat", (0.01,)),
        Panel("Catalog listing p95", (p95,), "ms", thresholds=(alert.catalog_p95_ms_gt,),
              description=f"Over the alert's {alert.window_minutes} demo minutes, as {alert.name} takes it; "
                          f"it needs it above {alert.catalog_p95_ms_gt:g} ms."),
        Panel("Checkout failure rate", (checkout,), "ratio", thresholds=(alert.checkout_error_rate_gt,),
              description=f"Over the alert's {alert.window_minutes} demo minutes, as {alert.name} takes it; "
                          f"it needs it above {alert.checkout_error_rate_gt:.0%}."),
        Panel("Error rate, all requests", (Query(errors, "status 5xx"),), "ratio",
              thresholds=(alert.checkout_error_rate_gt,),
              description="Share of every storefront request answered with a status of 500 or more."),
        Panel("Pool waiters", (Query(f"sum by (service_name) ({prometheus_name(POOL_WAITING)})",
                                     "{{service_name}}"),), "count",
              description="Requests queued for a database connection, per service."),
        Panel("Pool timeouts per demo minute",
              (Query(_per_minute(prometheus_name(POOL_TIMEOUTS, counter=True), window, "service_name"),
                     "{{service_name}}"),), "count",
              description="Requests that got no connection within the pool timeout."),
        Panel("Revenue per demo minute", (lost, booked), "USD",
              description="Checkouts' value, failed (lost) and booked, in the last demo minute."),
    )


def panels(scenario: Scenario, minute_seconds: float) -> tuple[Panel, ...]:
    """Every panel of `scenario`'s dashboard at `minute_seconds` per demo minute, in reading order."""
    # The stats first, then the story in the order it happens: traffic, slowness, failures, cost.
    every = (*traffic_panels(scenario, duration(minute_seconds)), *storefront_panels(scenario, minute_seconds))
    return (*(p for p in every if p.kind == "stat"), *(p for p in every if p.kind != "stat"))


def _marker(kind: str, window: str) -> str:
    # A marker's series is born at 1 and a counter's increase never counts its first sample, so
    # a marker shows while its series is new (absent a demo minute ago) or has grown since.
    series = f'{prometheus_name(DEMO_MARKER, counter=True)}{{demo_kind="{kind}"}}'
    grown = f"(increase({series}[{window}]) > 0)"
    born = f"({series} unless {series} offset {window})"
    return f"sum by (demo_step, demo_phase, demo_kind) ({grown} or {born})"


def annotations_of(scenario: Scenario, minute_seconds: float) -> tuple[Annotation, ...]:
    """The timeline's markers and the Flow Alert's firing, to draw across every panel."""
    window = duration(minute_seconds)
    # The load generator marks what it plays; the storefront services mark the faults they see.
    markers: tuple[tuple[str, str, str, Source], ...] = (
        ("Phase changes", "phase", "blue", "load-generator"), ("Faults", "fault", "orange", "storefront"),
        ("Actor actions", "actor", "purple", "load-generator"), ("Alert markers", "alert", "yellow", "load-generator"))
    firing = f'ALERTS{{alertname="{scenario.alert.name}",alertstate="firing"}}'
    return (*(Annotation(name, _marker(kind, window), "{{demo_step}} ({{demo_phase}})", color, source)
              for name, kind, color, source in markers),
            Annotation(f"{scenario.alert.name} firing", firing, scenario.alert.name, "red", "storefront"))
