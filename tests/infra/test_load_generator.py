"""The load generator runs as a StatefulSet: each replica gets its own LOADGEN_REPLICA_INDEX
from its pod ordinal, so N replicas interleave their arrivals and name distinct shoppers."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from infra.components.service import POD_INDEX
from infra.k8s import labels
from services.load_generator.config import Settings
from services.load_generator.programs import replica_phase
from tests.infra.conftest import Run, run_program
from tests.infra.k8s_objects import config_map_data, container, manifest, workload

STATEFULSET = "kubernetes:apps/v1:StatefulSet"
SERVICE = "kubernetes:core/v1:Service"
REPLICAS = 3


@pytest.fixture(scope="module")
def three() -> Run:
    return run_program({"scenario": "blackfriday", "loadgenReplicas": str(REPLICAS)})


def _env(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in c["env"]}


def test_the_load_generator_is_a_parallel_statefulset_of_the_configured_replicas(three: Run) -> None:
    assert [r.name for r in three.of_type("kubernetes:apps/v1:Deployment")
            if r.inputs["metadata"]["name"] == "load-generator"] == []
    sts = manifest(three.named(STATEFULSET, "load-generator-statefulset"))
    assert sts["metadata"]["name"] == "load-generator"
    assert sts["spec"]["replicas"] == REPLICAS
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert config_map_data(three, "loadgen-config")["LOADGEN_REPLICAS"] == str(REPLICAS)


def test_each_pod_reads_its_index_from_the_pod_index_label(three: Run) -> None:
    env = _env(container(three, "load-generator"))
    assert env["LOADGEN_REPLICA_INDEX"] == {"name": "LOADGEN_REPLICA_INDEX", "valueFrom": {
        "fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}}}
    assert POD_INDEX == "metadata.labels['apps.kubernetes.io/pod-index']"
    assert "k8s.statefulset.name=load-generator" in env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
    # Only the load generator gets an index: the storefront services stay Deployments.
    for service in ("product-catalog", "cart", "checkout"):
        assert "LOADGEN_REPLICA_INDEX" not in _env(container(three, service)), service


def _pod_env(run: Run, ordinal: int) -> dict[str, str]:
    """The environment the kubelet gives pod load-generator-<ordinal>: its ConfigMaps, then its
    plain and downward-API variables (the pod-index label is the ordinal); secrets left out."""
    c = container(run, "load-generator")
    maps = {cm.state["metadata"]["name"]: cm.inputs["data"]
            for cm in run.of_type("kubernetes:core/v1:ConfigMap")}
    env: dict[str, str] = {}
    for ref in c["envFrom"]:
        env.update(maps[ref["configMapRef"]["name"]])
    fields = {POD_INDEX: str(ordinal), "metadata.name": f"load-generator-{ordinal}",
              "metadata.namespace": "ecommerce-demo"}
    for e in c["env"]:
        if "value" in e:
            env[e["name"]] = e["value"]
        elif "fieldRef" in e["valueFrom"]:
            env[e["name"]] = fields[e["valueFrom"]["fieldRef"]["fieldPath"]]
    return env


def test_the_pods_get_distinct_indexes_and_phases(three: Run,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The defect: every Deployment pod was index 0, so arrivals coincided and shopper ids
    collided. Each StatefulSet pod's settings now carry its own index."""
    indexes = []
    for ordinal in range(workload(three, "load-generator")["spec"]["replicas"]):
        with monkeypatch.context() as m:
            for key, value in _pod_env(three, ordinal).items():
                m.setenv(key, value)
            settings = Settings()
        assert settings.loadgen_replicas == REPLICAS
        indexes.append(settings.loadgen_replica_index)
    assert indexes == list(range(REPLICAS))
    assert len({replica_phase(i, REPLICAS) for i in indexes}) == REPLICAS


def test_the_service_keeps_its_name_and_selects_the_statefulset_pods(three: Run) -> None:
    sts = manifest(three.named(STATEFULSET, "load-generator-statefulset"))
    svc = manifest(three.named(SERVICE, "load-generator-service"))
    assert svc["metadata"]["name"] == "load-generator" == sts["spec"]["serviceName"]
    assert svc["spec"].get("clusterIP") != "None"  # still the ClusterIP Service the URLs name
    assert svc["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"] == \
        {"app.kubernetes.io/name": "load-generator"}
    # The same labels as before; still no db-client label (the NetworkPolicy keeps it out).
    assert sts["metadata"]["labels"] == svc["metadata"]["labels"] == labels("load-generator")
    assert sts["spec"]["template"]["metadata"]["labels"] == labels("load-generator", telemetry=True)


def test_the_pods_are_configured_like_the_other_services(three: Run) -> None:
    loadgen, cart = workload(three, "load-generator"), workload(three, "cart")
    pod, cart_pod = loadgen["spec"]["template"]["spec"], cart["spec"]["template"]["spec"]
    assert {k: v for k, v in pod.items() if k != "containers"} == \
        {k: v for k, v in cart_pod.items() if k != "containers"}
    c, cart_c = pod["containers"][0], cart_pod["containers"][0]
    for key in ("securityContext", "resources", "volumeMounts", "imagePullPolicy", "image"):
        assert c[key] == cart_c[key], key
    port = c["ports"][0]["containerPort"]
    for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
        assert c[probe]["httpGet"] == {"path": path, "port": port}
        assert {k: v for k, v in c[probe].items() if k != "httpGet"} == \
            {k: v for k, v in cart_c[probe].items() if k != "httpGet"}
    # Both ConfigMaps (the shared one and LOADGEN_*), and the admin token from its Secret.
    maps = [three.named("kubernetes:core/v1:ConfigMap", n).state["metadata"]["name"]
            for n in ("services-config", "loadgen-config")]
    assert [e["configMapRef"]["name"] for e in c["envFrom"]] == maps
    assert _env(c)["ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "loadgen-admin",
                                                                   "key": "token"}


def test_the_statefulset_validates_against_the_schemas(three: Run) -> None:
    objects = three.k8s_objects()
    assert any(o.typ == STATEFULSET and o.name == "load-generator-statefulset" for o in objects)
    for obj in objects:
        kubernetes_validate.validate(manifest(obj), latest_version(), strict=True)
