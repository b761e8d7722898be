"""What the rendered stack runs, read off its objects as a kubelet would: each workload's
container command, its environment with ConfigMap, Secret and downward-API values resolved and
$(VAR) references expanded, its CPU limit and its readiness probe. Services are reached by
their DNS names in the rendered values; `Network` maps those names to local ports."""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass, field
from typing import Any

from rehearsal.twin.render import Registered, Run

WORKLOADS = {"kubernetes:apps/v1:Deployment": "deployment", "kubernetes:apps/v1:StatefulSet": "statefulset",
             "kubernetes:batch/v1:Job": "job"}
NAMESPACE = "ecommerce-demo"


@dataclass(frozen=True)
class Probe:
    path: str
    port: int


@dataclass(frozen=True)
class Pod:
    name: str                 # the workload's name (a Job's without the generated suffix)
    kind: str                 # deployment | statefulset | job
    image: str
    command: list[str]
    env: dict[str, str]
    cpu_limit: str | None
    readiness: Probe | None
    ports: list[int]


@dataclass
class Network:
    """Service DNS names (as the rendered env names them) and the local address of each."""

    hosts: dict[str, tuple[str, int]] = field(default_factory=dict)  # (service, port) -> local

    def local(self, value: str, pairs: dict[tuple[str, int], tuple[str, int]]) -> str:
        for (service, port), (host, local_port) in pairs.items():
            value = value.replace(f"http://{service}:{port}", f"http://{host}:{local_port}")
        return value


def _objects(run: Run, kind: str) -> dict[str, dict[str, Any]]:
    return {r.manifest()["metadata"]["name"]: r.manifest() for r in run.of_type(f"kubernetes:core/v1:{kind}")}


def _value(item: dict[str, Any], pod: str, labels: dict[str, str], maps: dict[str, Any],
           secrets: dict[str, Any]) -> str:
    if "value" in item:
        return str(item["value"])
    source = item["valueFrom"]
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return str(maps[ref["name"]]["data"][ref["key"]])
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return str(secrets[ref["name"]]["stringData"][ref["key"]])
    path = source["fieldRef"]["fieldPath"]
    fields = {"metadata.name": pod, "metadata.namespace": NAMESPACE, "spec.nodeName": f"twin-{platform.node()}"}
    label = re.fullmatch(r"metadata\.labels\['(.+)'\]", path)
    if label:
        return labels.get(label.group(1), "0" if label.group(1) == "apps.kubernetes.io/pod-index" else "")
    return fields[path]


def _env(container: dict[str, Any], pod: str, labels: dict[str, str], maps: dict[str, Any],
         secrets: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update({k: str(v) for k, v in maps[source["configMapRef"]["name"]]["data"].items()})
    for item in container.get("env", []):
        # The kubelet expands $(VAR) from the variables declared before this one.
        raw = _value(item, pod, labels, maps, secrets)
        env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), raw)
    return env


def _pod(r: Registered, kind: str, maps: dict[str, Any], secrets: dict[str, Any]) -> Pod:
    body = r.manifest()
    template = body["spec"]["template"]
    [container] = template["spec"]["containers"]
    name = r.name if kind == "job" else body["metadata"]["name"]
    instance = f"{name}-0" if kind == "statefulset" else f"{name}-twin"
    labels = {**template["metadata"].get("labels", {}),
              **({"apps.kubernetes.io/pod-index": "0"} if kind == "statefulset" else {})}
    probe = container.get("readinessProbe", {}).get("httpGet")
    return Pod(name=name, kind=kind, image=container["image"],
               command=[*container.get("command", []), *container.get("args", [])],
               env=_env(container, instance, labels, maps, secrets),
               cpu_limit=container.get("resources", {}).get("limits", {}).get("cpu"),
               readiness=Probe(probe["path"], int(probe["port"])) if probe else None,
               ports=[int(p["containerPort"]) for p in container.get("ports", [])])


def pods(run: Run) -> dict[str, Pod]:
    """Every workload of the rendered stack, by name."""
    maps, secrets = _objects(run, "ConfigMap"), _objects(run, "Secret")
    found = [_pod(r, kind, maps, secrets) for typ, kind in WORKLOADS.items() for r in run.of_type(typ)]
    return {p.name: p for p in found}


def services(run: Run) -> dict[str, int]:
    """Each Service's DNS name and port, as the pods' configuration addresses them."""
    return {s["metadata"]["name"]: int(s["spec"]["ports"][-1]["port"]) for s in _objects(run, "Service").values()}
