"""The namespace's network: every pod denied all traffic, in and out, then each connection the
stack makes allowed by name, on both of its ends. A connection not listed here does not
happen: the load generator cannot reach PostgreSQL, nothing but the collector leaves the
cluster, and only when it exports somewhere."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import collector_config as cc
from infra import k8s as spec
from infra.options import child_options
from services.ports import LOAD_GENERATOR, PORTS, STOREFRONT

POSTGRES_PORT = 5432
COLLECTOR = "otel-collector"
DNS_PEER = {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "kube-system"}},
            "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}}}
# Where an exporter sends: any address, on the OTLP and HTTPS ports only.
ANYWHERE = {"ip_block": {"cidr": "0.0.0.0/0"}}
EXPORT_PORTS = (443, cc.OTLP_GRPC_PORT, cc.OTLP_HTTP_PORT)


@dataclass(frozen=True)
class Flow:
    """Pods matching `source` may open connections to pods matching `target` on `ports`."""

    name: str
    source: dict[str, str]
    target: dict[str, str]
    ports: tuple[int, ...]


def flows() -> list[Flow]:
    return [
        Flow("db-clients-to-postgres", {spec.DB_CLIENT_LABEL: "true"}, spec.selector("postgres"),
             (POSTGRES_PORT,)),
        Flow("telemetry-to-collector", {spec.TELEMETRY_LABEL: "true"}, spec.selector(COLLECTOR),
             (cc.OTLP_GRPC_PORT, cc.OTLP_HTTP_PORT)),
        *(Flow(f"load-generator-to-{name}", spec.selector(LOAD_GENERATOR), spec.selector(name), (PORTS[name],))
          for name in STOREFRONT),
    ]


def _ports(ports: tuple[int, ...], protocol: str = "TCP") -> list[spec.Spec]:
    return [{"protocol": protocol, "port": p} for p in ports]


@dataclass(frozen=True)
class NetworkArgs:
    namespace: pulumi.Input[str]
    exporting: bool  # the collector sends telemetry out of the cluster
    # The presenter page's Prometheus (config prometheusUrl): the load generator may reach this port.
    prometheus_port: int | None = None


class NetworkPolicies(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:NetworkPolicies", name, None, opts)
        self.names: list[str] = []
        self._policy("default-deny", args, {}, ingress=[], egress=[])
        self._policy("allow-dns", args, {}, egress=[{"to": [DNS_PEER], "ports": [
            *_ports((53,), "UDP"), *_ports((53,))]}])
        for flow in flows():
            self._policy(f"allow-{flow.name}-out", args, flow.source,
                         egress=[{"to": [{"pod_selector": {"match_labels": flow.target}}],
                                  "ports": _ports(flow.ports)}])
            self._policy(f"allow-{flow.name}-in", args, flow.target,
                         ingress=[{"from": [{"pod_selector": {"match_labels": flow.source}}],
                                   "ports": _ports(flow.ports)}])
        if args.exporting:
            self._policy("allow-collector-export", args, spec.selector(COLLECTOR),
                         egress=[{"to": [ANYWHERE], "ports": _ports(EXPORT_PORTS)}])
        if args.prometheus_port is not None:
            self._policy("allow-loadgen-prometheus", args, spec.selector(LOAD_GENERATOR),
                         egress=[{"to": [ANYWHERE], "ports": _ports((args.prometheus_port,))}])
        self.register_outputs({"policies": self.names})

    def _policy(self, name: str, args: NetworkArgs, pods: dict[str, str], *,
                ingress: list[spec.Spec] | None = None, egress: list[spec.Spec] | None = None) -> None:
        body: spec.Spec = {"pod_selector": {"match_labels": pods} if pods else {}, "policy_types": []}
        for kind, rules in (("Ingress", ingress), ("Egress", egress)):
            if rules is not None:
                body["policy_types"].append(kind)
                body[kind.lower()] = rules
        k8s.networking.v1.NetworkPolicy(
            name, metadata={"name": name, "namespace": args.namespace,
                            "labels": {"app.kubernetes.io/part-of": spec.PART_OF}},
            spec=body, opts=child_options(self, None))
        self.names.append(name)
