"""Small builders for the Kubernetes specs every component repeats: labels, the restricted
Pod Security settings, resources and probes. Plain dicts (the SDK maps snake_case keys)."""

from __future__ import annotations

import shlex
from typing import Any

PART_OF = "bfdemo"
# Pods carrying these labels may reach PostgreSQL, and the collector (see network.py).
DB_CLIENT_LABEL = "bfdemo.io/db-client"
TELEMETRY_LABEL = "bfdemo.io/sends-telemetry"

Spec = dict[str, Any]


def labels(name: str, *, db_client: bool = False, telemetry: bool = False) -> dict[str, str]:
    result = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}
    if db_client:
        result[DB_CLIENT_LABEL] = "true"
    if telemetry:
        result[TELEMETRY_LABEL] = "true"
    return result


# Scanner findings that do not apply to one object, each with its reason, as checkov reads
# them from the object's annotations (the findings that apply nowhere are in .checkov.yaml).
OWN_IMAGE_SKIPS = {
    "CKV_K8S_43": "our own image is named by its content tag (make image-tag); kind loads it by tag",
    "CKV_K8S_15": "a kind-loaded image has no registry to pull from; a rebuilt image gets a new tag",
}


POSTGRES_UID_SKIP = {
    "CKV_K8S_40": "the PostgreSQL image's postgres user is uid 70; another uid could not own its files",
}


def scanner_skips(reasons: dict[str, str]) -> dict[str, str]:
    return {f"checkov.io/skip{i}": f"{check}={why}" for i, (check, why) in enumerate(reasons.items(), 1)}


def selector(name: str) -> dict[str, str]:
    # Selectors are immutable on Deployments and StatefulSets: keep them to the one stable label.
    return {"app.kubernetes.io/name": name}


def pod_security(uid: int, *, fs_group: int | None = None) -> Spec:
    """Pod-level settings the restricted profile requires (non-root, RuntimeDefault seccomp)."""
    spec: Spec = {
        "run_as_non_root": True,
        "run_as_user": uid,
        "run_as_group": uid,
        "seccomp_profile": {"type": "RuntimeDefault"},
    }
    if fs_group is not None:
        spec["fs_group"] = fs_group
    return spec


def container_security(uid: int) -> Spec:
    """Container-level restricted settings; the root filesystem is read-only everywhere, with
    emptyDir mounts where a process must write (/tmp, the PostgreSQL socket directory)."""
    return {
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": True,
        "run_as_non_root": True,
        "run_as_user": uid,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> Spec:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def http_probe(path: str, port: int, *, period: int, failures: int, delay: int = 0) -> Spec:
    return {
        "http_get": {"path": path, "port": port},
        "initial_delay_seconds": delay,
        "period_seconds": period,
        "timeout_seconds": 2,
        "failure_threshold": failures,
    }


def exec_probe(command: list[str], *, period: int, failures: int, delay: int = 0) -> Spec:
    return {
        "exec": {"command": command},
        "initial_delay_seconds": delay,
        "period_seconds": period,
        "timeout_seconds": 5,
        "failure_threshold": failures,
    }


def db_client_env(db_env: dict[str, str], password_secret: Any) -> list[Spec]:
    """DB_* as literal values and the password from its Secret, for a Job's container."""
    env: list[Spec] = [{"name": k, "value": v} for k, v in sorted(db_env.items())]
    env.append({"name": "DB_PASSWORD", "value_from": {"secret_key_ref": {"name": password_secret, "key": "password"}}})
    return env


def run_once_pod(name: str, uid: int, container: Spec) -> Spec:
    """A Job's pod template: one database client, restricted, no API token, writable /tmp."""
    return {
        "metadata": {"labels": labels(name, db_client=True)},
        "spec": {
            "restart_policy": "Never",
            "security_context": pod_security(uid),
            "automount_service_account_token": False,  # no pod here calls the API
            "containers": [container],
            "volumes": [tmp_volume()],
        },
    }


def tmp_volume(name: str = "tmp", size: str = "64Mi") -> Spec:
    return {"name": name, "empty_dir": {"size_limit": size}}


def kubectl(context: str, namespace: str) -> str:
    """The kubectl the local Commands run: the provider's context, the stack's namespace."""
    return "kubectl" + (f" --context {shlex.quote(context)}" if context else "") + f" -n {shlex.quote(namespace)}"
