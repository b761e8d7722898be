"""prometheusOperator: the PrometheusRule, the ServiceMonitor and the scrape allowance, only
when asked; and the stack output `alerts` saying what was created where."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from scenarios.blackfriday import BLACKFRIDAY
from scenarios.prometheus import duration, evaluation_interval, rules
from services.ports import PORTS, STOREFRONT
from tests.infra.conftest import Run, run_program
from tests.infra.k8s_objects import manifest
from tests.infra.test_network import Cluster, _side_allows

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}


@pytest.fixture(scope="module")
def operator() -> Run:
    # Without a scenario: the rules ship on the baseline too (they fire only under the scenario).
    return run_program({"prometheusOperator": "true", "demoMinuteSeconds": "10"})


def test_nothing_for_the_operator_by_default(baseline: Run, blackfriday: Run) -> None:
    for run in (baseline, blackfriday):
        assert run.of_type(RULE) == [] and run.of_type(MONITOR) == []
        assert [p for p in run.of_type(POLICY) if "scrape" in p.name] == []
        assert run.outputs["alerts"]["prometheusRule"] is None


def test_the_rule_holds_the_scenarios_rules_at_the_stacks_minute(operator: Run) -> None:
    [rule] = operator.of_type(RULE)
    body = manifest(rule)
    assert body["apiVersion"] == "monitoring.coreos.com/v1" and body["kind"] == "PrometheusRule"
    assert body["metadata"]["namespace"] == "monitoring"
    assert body["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert body["spec"]["groups"] == rules(BLACKFRIDAY, 10)["groups"]


def test_the_release_label_is_configurable() -> None:
    run = run_program({"prometheusOperator": "true", "prometheusReleaseLabel": "",
                       "monitoringNamespace": "observability"})
    for obj in (*run.of_type(RULE), *run.of_type(MONITOR)):
        assert "release" not in manifest(obj)["metadata"]["labels"]
        assert manifest(obj)["metadata"]["namespace"] == "observability"


def test_the_monitor_scrapes_the_storefront_and_load_generator_metrics(operator: Run) -> None:
    [monitor] = operator.of_type(MONITOR)
    body = manifest(monitor)["spec"]
    assert body["namespaceSelector"] == {"matchNames": ["ecommerce-demo"]}
    interval = duration(evaluation_interval(10))
    assert body["endpoints"] == [{"port": "http", "path": "/metrics", "interval": interval,
                                  "scrapeTimeout": interval}]
    selected = set()
    for svc in operator.of_type("kubernetes:core/v1:Service"):
        labels, ports = manifest(svc)["metadata"]["labels"], manifest(svc)["spec"]["ports"]
        wanted = body["selector"]
        names = wanted["matchExpressions"][0]["values"]
        if all(labels.get(k) == v for k, v in wanted["matchLabels"].items()) and \
                labels.get("app.kubernetes.io/name") in names:
            assert [p["name"] for p in ports] == ["http"]
            selected.add(labels["app.kubernetes.io/name"])
    assert selected == {*STOREFRONT, "load-generator"}  # the dashboard's journeys and markers


def test_only_the_monitoring_namespace_may_scrape_and_only_the_metrics_ports(operator: Run, baseline: Run) -> None:
    [policy] = [p for p in operator.of_type(POLICY) if "scrape" in p.name]
    kubernetes_validate.validate(manifest(policy), latest_version(), strict=True)
    cluster = Cluster(operator)
    scraper = {"app.kubernetes.io/name": "prometheus"}
    before = Cluster(baseline)  # without the option, nothing outside the namespace gets in
    assert not _side_allows(before.policies, before.pods["checkout"], "Ingress", scraper, MONITORING, 8003, "TCP")
    for name in (*STOREFRONT, "load-generator"):
        pod = cluster.pods[name]
        assert _side_allows(cluster.policies, pod, "Ingress", scraper, MONITORING, PORTS[name], "TCP")
        other = {"kubernetes.io/metadata.name": "default"}
        assert not _side_allows(cluster.policies, pod, "Ingress", scraper, other, PORTS[name], "TCP")
        assert not _side_allows(cluster.policies, pod, "Ingress", scraper, MONITORING, 5432, "TCP")
    for name in ("postgres", "otel-collector"):
        port = {"postgres": 5432, "otel-collector": 4318}[name]
        assert not _side_allows(cluster.policies, cluster.pods[name], "Ingress", scraper, MONITORING, port, "TCP")
    # The namespace's default-deny stays: every pod still isolated both ways.
    assert [n for n in cluster.pods if not cluster.isolated(n)] == []


def _loadgen_env(run: Run) -> dict[str, str]:
    maps = [manifest(cm) for cm in run.of_type("kubernetes:core/v1:ConfigMap")]
    return next(m["data"] for m in maps if "LOADGEN_REPLICAS" in m.get("data", {}))


def test_the_presenter_page_asks_the_operators_prometheus_and_may_reach_only_its_port(
        operator: Run, baseline: Run) -> None:
    assert "PROMETHEUS_URL" not in _loadgen_env(baseline)
    assert not Cluster(baseline).allows_out("load-generator", 9090)
    assert _loadgen_env(operator)["PROMETHEUS_URL"] == "http://prometheus-operated.monitoring.svc:9090"
    cluster = Cluster(operator)
    assert cluster.allows_out("load-generator", 9090) and not cluster.allows_out("load-generator", 9091)
    assert not cluster.allows_out("checkout", 9090)
    elsewhere = run_program({"prometheusUrl": "https://prometheus.example"})
    assert _loadgen_env(elsewhere)["PROMETHEUS_URL"] == "https://prometheus.example"
    assert Cluster(elsewhere).allows_out("load-generator", 443)


def test_the_alerts_output_says_what_was_created_where(baseline: Run, operator: Run) -> None:
    out = operator.outputs["alerts"]
    assert out["prometheusRule"] == "monitoring/bfdemo-blackfriday"
    assert out["serviceMonitor"] == "monitoring/bfdemo-storefront"
    assert out["coralogix"] is None
    assert "bfdemo alerts --scenario blackfriday --minute-seconds 10 --out alerts/" in out["files"]
    assert [e for e in out["enable"] if "prometheusOperator" in e] == []
    plain = baseline.outputs["alerts"]
    assert plain["scenario"] == "blackfriday" and "--minute-seconds 60" in plain["files"]
    assert len(plain["enable"]) == 2 and "alerts" not in baseline.secret_outputs
    json.dumps(plain)  # plain data, printable by pulumi stack output --json


def test_a_flag_that_is_not_a_boolean_fails_naming_the_key() -> None:
    from infra.config import ConfigError

    with pytest.raises(ConfigError, match="config key 'prometheusOperator' is 'yes'; allowed values: true, false"):
        run_program({"prometheusOperator": "yes"}, preview=True)
