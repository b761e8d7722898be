"""The OpenTelemetry Collector's configuration, as data (written out as JSON, which is YAML).

Credentials never appear here: the config names environment variables (`${env:...}`) that
the collector's Deployment fills from a Secret, so the ConfigMap holds no secret material."""

from __future__ import annotations

from typing import Any

OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
HEALTH_PORT = 13133
APPLICATION = "ecommerce-platform"
CORALOGIX_KEY_ENV = "CORALOGIX_PRIVATE_KEY"
OTLP_HEADERS_ENV = "OTLP_HEADERS"
# The container's memory limit is 384Mi; the limiter refuses data well before the OOM killer.
MEMORY_LIMIT_MIB = 300


def exporter(kind: str, *, otlp_endpoint: str, coralogix_domain: str,
             with_headers: bool) -> dict[str, Any]:
    """One exporter, named by its kind."""
    if kind == "coralogix":
        return {"coralogix": {
            "domain": coralogix_domain,
            "private_key": "${env:" + CORALOGIX_KEY_ENV + "}",
            "application_name": APPLICATION,
            "subsystem_name": "storefront",
            # Each service becomes its own subsystem in Coralogix.
            "subsystem_name_attributes": ["service.name"],
            "timeout": "30s",
        }}
    if kind == "otlp":
        otlp: dict[str, Any] = {"endpoint": otlp_endpoint}
        if with_headers:
            # A standalone ${env:...} is parsed as YAML, so a JSON object becomes the header map.
            otlp["headers"] = "${env:" + OTLP_HEADERS_ENV + "}"
        return {"otlphttp": otlp}
    return {"debug": {"verbosity": "basic"}}


def render(kind: str, *, otlp_endpoint: str = "", coralogix_domain: str = "",
           with_headers: bool = False) -> dict[str, Any]:
    exporters = exporter(kind, otlp_endpoint=otlp_endpoint, coralogix_domain=coralogix_domain,
                         with_headers=with_headers)
    out = list(exporters)
    processors = ["memory_limiter", "batch"]
    return {
        "receivers": {"otlp": {"protocols": {
            # Recent collectors listen on localhost by default: bind the pod's interfaces.
            "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
            "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"},
        }}},
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_mib": MEMORY_LIMIT_MIB,
                               "spike_limit_mib": 60},
            "batch": {"send_batch_size": 1024, "timeout": "2s"},
        },
        # RED metrics (rate, errors, duration) per service and operation, derived from spans,
        # so the alert's p95 and error rate exist even where the backend lacks span metrics.
        "connectors": {"spanmetrics": {
            "histogram": {"explicit": {"buckets": [
                "50ms", "100ms", "250ms", "500ms", "1s", "2s", "2500ms", "5s", "10s"]}},
            "dimensions": [{"name": "http.route"}, {"name": "http.response.status_code"}],
            "metrics_flush_interval": "15s",
        }},
        "exporters": exporters,
        "extensions": {"health_check": {"endpoint": f"0.0.0.0:{HEALTH_PORT}"}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": processors,
                           "exporters": [*out, "spanmetrics"]},
                "metrics": {"receivers": ["otlp", "spanmetrics"], "processors": processors,
                            "exporters": out},
                "logs": {"receivers": ["otlp"], "processors": processors, "exporters": out},
            },
        },
    }
