"""The config schema in Pulumi.yaml and the program that reads it agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.config import ConfigError, schema
from tests.infra.conftest import ROOT, run_program

INFRA = ROOT / "infra"


def _keys_read_by_program() -> set[str]:
    text = (INFRA / "config.py").read_text()
    return set(re.findall(r'r\.(?:text|integer|choice|secret|cpu|run_name)\("([A-Za-z]+)"', text))


def test_every_key_read_is_declared_with_type_default_and_description() -> None:
    read = _keys_read_by_program()
    assert len(read) >= 15
    assert read == set(schema())
    for key, decl in schema().items():
        assert decl["type"] in {"string", "integer", "boolean"}, key
        assert "default" in decl and decl["description"].strip(), key


def test_scenario_is_documented_with_its_allowed_values() -> None:
    from scenarios.catalogue import SCENARIOS

    for name in SCENARIOS:
        assert name in schema()["scenario"]["description"]


def test_the_demo_stack_file_names_only_declared_keys() -> None:
    import yaml

    demo = yaml.safe_load(Path(ROOT / "Pulumi.demo.yaml").read_text())["config"]
    ours = {k.split(":", 1)[1] for k in demo if k.startswith("bfdemo:")}
    assert ours <= set(schema())


@pytest.mark.parametrize(("config", "fragment"), [
    ({"exporter": "jaeger"}, "config key 'exporter' is 'jaeger'; allowed values: debug, otlp"),
    ({"exporter": "coralogix"}, "'coralogixPrivateKey'"),
    ({"exporter": "otlp"}, "'otlpEndpoint'"),
    ({"catalogProducts": "many"}, "config key 'catalogProducts' must be an integer"),
    ({"loadgenReplicas": "0"}, "config key 'loadgenReplicas' must be at least 1"),
    ({"calibration": "{\"products\": 1}"}, "config key 'calibration'"),
    ({"imagePullPolicy": "Sometimes"}, "config key 'imagePullPolicy'"),
    ({"postgresCpuLimit": "fast"}, "config key 'postgresCpuLimit' is 'fast'; allowed values: a CPU quantity"),
    ({"postgresCpuLimit": "0"}, "config key 'postgresCpuLimit' is '0'"),
    ({"prometheusUrl": "prometheus:9090"}, "config key 'prometheusUrl' is 'prometheus:9090': give a Prometheus"),
])
def test_invalid_values_fail_with_the_key_named(config: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        run_program(config)


def test_calibration_reaches_the_load_generator_only() -> None:
    calibration = ('{"products": 1000000, "catalog_capacity_qps": 40.0, '
                   '"lock_throughput_per_s": 12.0}')
    run = run_program({"calibration": calibration, "loadgenReplicas": "2"})
    [loadgen] = [r for r in run.of_type("kubernetes:core/v1:ConfigMap") if r.name == "loadgen-config"]
    assert loadgen.inputs["data"]["CALIBRATION_JSON"] == calibration
    assert loadgen.inputs["data"]["LOADGEN_REPLICAS"] == "2"
    assert loadgen.inputs["data"]["CHECKOUT_URL"] == "http://checkout:8003"
    [services] = [r for r in run.of_type("kubernetes:core/v1:ConfigMap")
                  if r.name == "services-config"]
    assert "CALIBRATION_JSON" not in services.inputs["data"]


def test_the_kube_context_reaches_the_scenario_commands() -> None:
    run = run_program({"scenario": "blackfriday"},
                      other_config={"kubernetes:context": "kind-bfdemo"})
    [cmd] = [r for r in run.of_type("pulumi-python:dynamic/command:Command") if "break" in r.name]
    assert "kubectl --context kind-bfdemo -n ecommerce-demo exec" in cmd.inputs["create"]
    assert "kubectl --context kind-bfdemo -n ecommerce-demo get" in cmd.inputs["delete"]
    assert "--context kind-bfdemo" in run.outputs["watch"]["collector"]


def test_config_error_is_a_run_error() -> None:
    import pulumi

    # RunError: Pulumi prints the message alone, without a Python traceback.
    assert issubclass(ConfigError, pulumi.RunError)


@pytest.mark.parametrize(("limit", "request_"), [("1", "250m"), ("2", "250m"), ("500m", "250m"), ("200m", "200m")])
def test_the_database_cpu_limit_is_the_configured_one(limit: str, request_: str) -> None:
    [sts] = [r for r in run_program({"postgresCpuLimit": limit}).of_type("kubernetes:apps/v1:StatefulSet")
             if r.name == "postgres-statefulset"]
    resources = sts.manifest()["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["cpu"] == limit and resources["requests"]["cpu"] == request_
