"""The scenario's alert for a cluster that runs the Prometheus operator (kube-prometheus-stack
and the like): a PrometheusRule holding the rules `bfdemo alerts` writes
(scenarios/prometheus.py), a ServiceMonitor scraping the storefront's and the load generator's
/metrics at the rules' evaluation interval, and the one NetworkPolicy that lets the monitoring
namespace's pods reach those pods' ports (the namespace's default-deny stays: see network.py).

The rules ship whether or not a scenario is applied: they fire only under the scenario's
conditions, so on the baseline they stay quiet, and after a restore the presenter sees the
alert resolve instead of vanish."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import k8s as spec
from infra.options import child_options
from scenarios.model import Scenario
from scenarios.prometheus import duration, evaluation_interval, rules
from services.ports import LOAD_GENERATOR, PORTS, STOREFRONT

API_VERSION = "monitoring.coreos.com/v1"
METRICS_PATH = "/metrics"
PORT_NAME = "http"  # the storefront Services' one port (components/service.py)
# The load generator too: the dashboard's journeys and timeline markers are its metrics.
SCRAPED = (*STOREFRONT, LOAD_GENERATOR)


@dataclass(frozen=True)
class PrometheusOperatorArgs:
    scenario: Scenario
    minute_seconds: int
    namespace: str  # the stack's, where the storefront runs
    monitoring_namespace: str  # Prometheus' own, where the rule and the monitor go
    # The label the operator's ruleSelector and serviceMonitorSelector commonly match
    # (kube-prometheus-stack: release=<its Helm release>); empty: no such label.
    release: str


def _labels(args: PrometheusOperatorArgs) -> dict[str, str]:
    labels = {"app.kubernetes.io/part-of": spec.PART_OF}
    if args.release:
        labels["release"] = args.release
    return labels


def service_monitor_spec(args: PrometheusOperatorArgs) -> spec.Spec:
    interval = duration(evaluation_interval(args.minute_seconds))
    return {
        "namespaceSelector": {"matchNames": [args.namespace]},
        "selector": {"matchLabels": {"app.kubernetes.io/part-of": spec.PART_OF},
                     "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In",
                                           "values": list(SCRAPED)}]},
        "endpoints": [{"port": PORT_NAME, "path": METRICS_PATH, "interval": interval,
                       "scrapeTimeout": interval}],
    }


def scrape_policy(args: PrometheusOperatorArgs) -> spec.Spec:
    """Ingress to the storefront pods, on their ports, from the monitoring namespace's pods."""
    peer = {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": args.monitoring_namespace}}}
    return {
        "pod_selector": {"match_expressions": [{"key": "app.kubernetes.io/name", "operator": "In",
                                                "values": list(SCRAPED)}]},
        "policy_types": ["Ingress"],
        "ingress": [{"from": [peer], "ports": [{"protocol": "TCP", "port": PORTS[s]} for s in SCRAPED]}],
    }


class PrometheusOperatorAlerts(pulumi.ComponentResource):
    def __init__(self, name: str, args: PrometheusOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:monitoring:PrometheusOperatorAlerts", name, None, opts)
        rule_name = f"bfdemo-{args.scenario.name}"
        meta = {"namespace": args.monitoring_namespace, "labels": _labels(args)}
        self.rule = k8s.apiextensions.CustomResource(
            f"{name}-rule", api_version=API_VERSION, kind="PrometheusRule",
            metadata={**meta, "name": rule_name},
            spec={"groups": rules(args.scenario, args.minute_seconds)["groups"]},
            opts=child_options(self, opts))
        self.monitor = k8s.apiextensions.CustomResource(
            f"{name}-monitor", api_version=API_VERSION, kind="ServiceMonitor",
            metadata={**meta, "name": "bfdemo-storefront"}, spec=service_monitor_spec(args),
            opts=child_options(self, opts))
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-scrape", metadata={"name": "allow-monitoring-scrape", "namespace": args.namespace,
                                              "labels": {"app.kubernetes.io/part-of": spec.PART_OF}},
            spec=scrape_policy(args), opts=child_options(self, opts))
        self.rule_ref = f"{args.monitoring_namespace}/{rule_name}"
        self.monitor_ref = f"{args.monitoring_namespace}/bfdemo-storefront"
        self.register_outputs({"prometheusRule": self.rule_ref, "serviceMonitor": self.monitor_ref})
