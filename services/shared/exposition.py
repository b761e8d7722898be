"""The service's OpenTelemetry metrics in Prometheus' text format, for GET /metrics.

The same instruments the OTLP exporter sends, collected (cumulative) on each scrape, so a
Prometheus scraping the pods evaluates the shipped rules over the numbers the backend gets.
Names follow OpenTelemetry's Prometheus compatibility rules: dots become underscores, the
unit is a suffix (`_milliseconds`), a monotonic sum ends in `_total`; the resource's
`service.name` is a label, as the collector's resource-to-telemetry conversion makes it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    InMemoryMetricReader,
    Metric,
    MetricsData,
    Sum,
)

from scenarios.metrics import INVALID, prometheus_name

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def label_name(key: str) -> str:
    return INVALID.sub("_", key)


def _escape(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, Any], extra: Mapping[str, str] | None = None) -> str:
    pairs = {**{label_name(k): v for k, v in labels.items()}, **(extra or {})}
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(pairs.items())) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if isinstance(value, float) else str(value)


def _samples(metric: Metric, service: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    data = metric.data
    if isinstance(data, Sum):
        kind = "counter" if data.is_monotonic else "gauge"
        name = prometheus_name(metric.name, metric.unit or "", counter=data.is_monotonic)
        lines = [f"{name}{_labels({**service, **dict(p.attributes or {})})} {_number(p.value)}"
                 for p in data.data_points]
        return name, kind, lines
    if isinstance(data, Gauge):
        name = prometheus_name(metric.name, metric.unit or "", counter=False)
        return name, "gauge", [f"{name}{_labels({**service, **dict(p.attributes or {})})} {_number(p.value)}"
                               for p in data.data_points]
    if isinstance(data, Histogram):
        name = prometheus_name(metric.name, metric.unit or "", counter=False)
        lines = []
        for p in data.data_points:
            attributes = {**service, **dict(p.attributes or {})}
            cumulative = 0
            for bound, count in zip([*p.explicit_bounds, math.inf], p.bucket_counts, strict=True):
                cumulative += count
                lines.append(f"{name}_bucket{_labels(attributes, {'le': _number(float(bound))})} {cumulative}")
            lines += [f"{name}_sum{_labels(attributes)} {_number(p.sum)}",
                      f"{name}_count{_labels(attributes)} {p.count}"]
        return name, "histogram", lines
    return "", "", []


def render(data: MetricsData | None) -> str:
    """Every metric of `data` as a Prometheus text exposition (one family per name)."""
    families: dict[str, tuple[str, str, list[str]]] = {}
    for resource_metrics in (data.resource_metrics if data else []):
        service = {"service.name": resource_metrics.resource.attributes.get("service.name", "")}
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                name, kind, lines = _samples(metric, service)
                if name:
                    help_text = (metric.description or name).replace("\n", " ")
                    families.setdefault(name, (kind, help_text, []))[2].extend(lines)
    return "".join(_family(name, *families[name]) for name in sorted(families))


def _family(name: str, kind: str, help_text: str, lines: Iterable[str]) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n" + "".join(f"{line}\n" for line in lines)


def scrape(reader: InMemoryMetricReader) -> str:
    return render(reader.get_metrics_data())
