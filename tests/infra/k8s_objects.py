"""Helpers to read the rendered Kubernetes objects of a mocked run."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Registered, Run

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
             "kubernetes:batch/v1:Job")


def manifest(r: Registered) -> dict[str, Any]:
    """The object as the provider would send it: inputs, plus the auto-generated name."""
    return r.manifest()


def pod_specs(run: Run) -> list[tuple[Registered, dict[str, Any], int]]:
    """(workload, pod spec, replicas) for every workload of the run."""
    found = []
    for typ in WORKLOADS:
        for r in run.of_type(typ):
            spec = manifest(r)["spec"]
            found.append((r, spec["template"]["spec"], int(spec.get("replicas", 1))))
    return found


def config_map_data(run: Run, prefix: str) -> dict[str, str]:
    [cm] = [r for r in run.of_type("kubernetes:core/v1:ConfigMap") if r.name == prefix]
    return dict(cm.inputs["data"])


def workload(run: Run, name: str) -> dict[str, Any]:
    """A service's Deployment, or its StatefulSet (the load generator's)."""
    [found] = [r for typ, kind in (("kubernetes:apps/v1:Deployment", "deployment"),
                                   ("kubernetes:apps/v1:StatefulSet", "statefulset"))
               for r in run.of_type(typ) if r.name == f"{name}-{kind}"]
    return manifest(found)


def container(run: Run, name: str) -> dict[str, Any]:
    return workload(run, name)["spec"]["template"]["spec"]["containers"][0]
