"""The rendered NetworkPolicies, evaluated as a cluster would: every pod is isolated both ways,
each connection the stack makes is allowed at both ends, and nothing else is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Run
from tests.infra.k8s_objects import WORKLOADS, manifest

KUBE_DNS = ({"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"})
OUTSIDE = "203.0.113.7"  # an address outside the cluster (TEST-NET-3), never contacted


def _pods(run: Run) -> dict[str, dict[str, str]]:
    """Each workload's pod labels, by the workload's name."""
    # Jobs by their resource name: their object names carry a generated suffix.
    return {r.name if typ == "kubernetes:batch/v1:Job" else manifest(r)["metadata"]["name"]:
            manifest(r)["spec"]["template"]["metadata"]["labels"]
            for typ in WORKLOADS for r in run.of_type(typ)}


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    wanted = (selector or {}).get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


def _peer_matches(peer: dict[str, Any], target: dict[str, str] | str, target_ns: dict[str, str] | None) -> bool:
    if isinstance(target, str):  # an IP address outside the cluster
        return "ipBlock" in peer and peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        return target_ns is not None and _selects(peer["namespaceSelector"], target_ns) \
            and _selects(peer.get("podSelector"), target)
    return target_ns is None and _selects(peer.get("podSelector"), target)


def _port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return ports is None or any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports)


def _side_allows(policies: list[dict[str, Any]], pod: dict[str, str], kind: str, peer: Any,
                 peer_ns: dict[str, str] | None, port: int, protocol: str) -> bool:
    mine = [p for p in policies if _selects(p.get("podSelector"), pod) and kind in p.get("policyTypes", [])]
    if not mine:
        return True  # not isolated in this direction
    key, peers = ("egress", "to") if kind == "Egress" else ("ingress", "from")
    return any(_port_matches(rule, port, protocol) and any(_peer_matches(x, peer, peer_ns) for x in rule.get(peers, []))
               for p in mine for rule in p.get(key, []))


class Cluster:
    def __init__(self, run: Run) -> None:
        self.pods = _pods(run)
        self.policies = [manifest(p)["spec"] for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]

    def allows(self, source: str, target: str, port: int) -> bool:
        src, dst = self.pods[source], self.pods[target]
        return (_side_allows(self.policies, src, "Egress", dst, None, port, "TCP")
                and _side_allows(self.policies, dst, "Ingress", src, None, port, "TCP"))

    def allows_dns(self, source: str) -> bool:
        dns, ns = KUBE_DNS
        return _side_allows(self.policies, self.pods[source], "Egress", dns, ns, 53, "UDP")

    def allows_out(self, source: str, port: int) -> bool:
        return _side_allows(self.policies, self.pods[source], "Egress", OUTSIDE, None, port, "TCP")

    def isolated(self, name: str) -> bool:
        return all(any(_selects(p.get("podSelector"), self.pods[name]) and kind in p.get("policyTypes", [])
                       for p in self.policies) for kind in ("Ingress", "Egress"))


STOREFRONT = {"product-catalog": 8001, "cart": 8002, "checkout": 8003}
NEEDED = [*((s, "postgres", 5432) for s in (*STOREFRONT, "catalog-seed")),
          *(("load-generator", s, p) for s, p in STOREFRONT.items()),
          *((s, "otel-collector", 4318) for s in (*STOREFRONT, "load-generator"))]
DENIED = [("load-generator", "postgres", 5432), ("otel-collector", "postgres", 5432),
          ("product-catalog", "cart", 8002), ("checkout", "load-generator", 8010),
          ("catalog-seed", "product-catalog", 8001), ("postgres", "otel-collector", 4318)]


@pytest.fixture(params=["baseline", "blackfriday", "otlp"])
def cluster(request: pytest.FixtureRequest, all_runs: dict[str, Run]) -> Cluster:
    return Cluster(all_runs[request.param])


def test_every_pod_is_isolated_both_ways(cluster: Cluster) -> None:
    assert set(cluster.pods) >= {"postgres", "otel-collector", "load-generator", "catalog-seed", *STOREFRONT}
    assert [name for name in cluster.pods if not cluster.isolated(name)] == []


def test_each_connection_the_stack_makes_is_allowed(cluster: Cluster) -> None:
    assert [c for c in NEEDED if not cluster.allows(*c)] == []
    assert [name for name in cluster.pods if not cluster.allows_dns(name)] == []


def test_nothing_else_is(cluster: Cluster) -> None:
    assert [c for c in DENIED if cluster.allows(*c)] == []
    assert [name for name in cluster.pods if name != "otel-collector" and cluster.allows_out(name, 443)] == []


def test_only_an_exporting_collector_leaves_the_cluster(all_runs: dict[str, Run]) -> None:
    assert not Cluster(all_runs["baseline"]).allows_out("otel-collector", 443)  # debug exporter
    assert Cluster(all_runs["otlp"]).allows_out("otel-collector", 443)
    assert not Cluster(all_runs["otlp"]).allows_out("otel-collector", 5432)
