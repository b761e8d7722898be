"""The collector's configuration: OTLP in, limits, spanmetrics, one exporter by config."""

from __future__ import annotations

import json

from infra.collector_config import render
from tests.infra.conftest import CORALOGIX_KEY, Run


def _config(run: Run) -> dict:
    [cm] = [r for r in run.of_type("kubernetes:core/v1:ConfigMap")
            if r.name == "otel-collector-config"]
    return json.loads(cm.inputs["data"]["config.yaml"])


def test_pipelines_reference_only_declared_components() -> None:
    for kind in ("debug", "otlp", "coralogix"):
        cfg = render(kind, otlp_endpoint="https://x", coralogix_domain="eu2.coralogix.com")
        declared = {**cfg["receivers"], **cfg["processors"], **cfg["exporters"],
                    **cfg["connectors"]}
        for pipeline in cfg["service"]["pipelines"].values():
            for name in pipeline["receivers"] + pipeline["processors"] + pipeline["exporters"]:
                assert name in declared, (kind, name)
        traces = cfg["service"]["pipelines"]["traces"]
        assert traces["processors"][0] == "memory_limiter"  # first, as the collector advises
        assert "spanmetrics" in traces["exporters"]
        assert "spanmetrics" in cfg["service"]["pipelines"]["metrics"]["receivers"]


def test_debug_is_the_default_exporter(baseline: Run) -> None:
    assert set(_config(baseline)["exporters"]) == {"debug"}
    assert not [r for r in baseline.of_type("kubernetes:core/v1:Secret")
                if r.name == "otel-collector-exporter"]


def test_coralogix_exporter_reads_its_key_from_a_secret(coralogix: Run) -> None:
    exporter = _config(coralogix)["exporters"]["coralogix"]
    assert exporter["application_name"] == "ecommerce-platform"
    assert exporter["domain"] == "eu2.coralogix.com"
    assert exporter["private_key"] == "${env:CORALOGIX_PRIVATE_KEY}"
    [secret] = [r for r in coralogix.of_type("kubernetes:core/v1:Secret")
                if r.name == "otel-collector-exporter"]
    assert secret.inputs["stringData"] == {"CORALOGIX_PRIVATE_KEY": CORALOGIX_KEY}
    [dep] = [r for r in coralogix.of_type("kubernetes:apps/v1:Deployment")
             if r.name == "otel-collector-deployment"]
    env = dep.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    ref = next(e for e in env if e["name"] == "CORALOGIX_PRIVATE_KEY")
    assert ref["valueFrom"]["secretKeyRef"]["key"] == "CORALOGIX_PRIVATE_KEY"


def test_otlp_exporter_takes_endpoint_and_headers_from_a_secret(otlp: Run) -> None:
    exporter = _config(otlp)["exporters"]["otlphttp"]
    assert exporter == {"endpoint": "https://otlp.example.com:4318",
                        "headers": "${env:OTLP_HEADERS}"}
