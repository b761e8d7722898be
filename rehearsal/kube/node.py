"""The Node this machine is to the control plane: registered with the machine's CPU and
memory, Ready while the agent runs, its Lease renewed as a kubelet renews it (every 10 s of a
40 s lease), so the node lifecycle controller treats it as a real node: one that stops
renewing goes NotReady and its pods are evicted."""

from __future__ import annotations

import os
import platform
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psutil
from kubernetes import client
from kubernetes.client.rest import ApiException

LEASE_NAMESPACE = "kube-node-lease"
LEASE_SECONDS = 40
RENEW_SECONDS = 10
MAX_PODS = 110  # the kubelet's default


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class NodeInfo:
    name: str
    address: str  # where the API server reaches the agent (logs); the node's InternalIP
    port: int  # the agent's kubelet port
    kube_version: str

    def capacity(self) -> dict[str, str]:
        memory_ki = psutil.virtual_memory().total // 1024
        disk_ki = psutil.disk_usage("/").total // 1024
        return {
            "cpu": str(os.cpu_count() or 1),
            "memory": f"{memory_ki}Ki",
            "pods": str(MAX_PODS),
            "ephemeral-storage": f"{disk_ki}Ki",
        }

    def manifest(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "labels": {
                    "kubernetes.io/hostname": self.name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": {"x86_64": "amd64", "aarch64": "arm64"}.get(
                        platform.machine(), platform.machine()
                    ),
                    "node.kubernetes.io/instance-type": "bfdemo-processes",
                },
            },
        }

    def status(self, ready: bool = True) -> dict[str, Any]:
        stamp = now()
        reasons = {
            "Ready": ("KubeletReady", "the node agent runs pods as processes"),
            "MemoryPressure": ("KubeletHasSufficientMemory", ""),
            "DiskPressure": ("KubeletHasNoDiskPressure", ""),
            "PIDPressure": ("KubeletHasSufficientPID", ""),
        }
        conditions = [
            {
                "type": kind,
                "status": ("True" if ready else "False") if kind == "Ready" else "False",
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
            }
            for kind, (reason, message) in reasons.items()
        ]
        uname = platform.uname()
        return {
            "status": {
                "capacity": self.capacity(),
                "allocatable": self.capacity(),
                "conditions": conditions,
                "addresses": [
                    {"type": "InternalIP", "address": self.address},
                    {"type": "Hostname", "address": self.name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
                "nodeInfo": {
                    "machineID": _machine_id(),
                    "systemUUID": _machine_id(),
                    "bootID": _boot_id(),
                    "kernelVersion": uname.release,
                    "osImage": f"{uname.system} (bfdemo node agent)",
                    "containerRuntimeVersion": "processes://bfdemo",
                    "kubeletVersion": self.kube_version,
                    "kubeProxyVersion": self.kube_version,
                    "operatingSystem": "linux",
                    "architecture": self.manifest()["metadata"]["labels"]["kubernetes.io/arch"],
                },
            }
        }


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def _machine_id() -> str:
    return _read("/etc/machine-id")


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")


class NodeLease:
    """Registers the node, reports it Ready and keeps its lease until stop()."""

    def __init__(self, api: client.ApiClient, info: NodeInfo) -> None:
        self.core = client.CoreV1Api(api)
        self.coordination = client.CoordinationV1Api(api)
        self.info = info
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name="node-lease", daemon=True)

    def register(self) -> None:
        try:
            self.core.create_node(self.info.manifest())
        except ApiException as err:
            if err.status != 409:
                raise
        self.core.patch_node_status(self.info.name, self.info.status())
        self._renew()
        self._thread.start()

    def _lease(self) -> dict[str, Any]:
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.info.name, "namespace": LEASE_NAMESPACE},
            "spec": {"holderIdentity": self.info.name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": micro_now()},
        }

    def _renew(self) -> None:
        try:
            self.coordination.patch_namespaced_lease(
                self.info.name, LEASE_NAMESPACE, {"spec": {"renewTime": micro_now()}}
            )
        except ApiException as err:
            if err.status != 404:
                raise
            self.coordination.create_namespaced_lease(LEASE_NAMESPACE, self._lease())

    def _renew_loop(self) -> None:
        beats = 0
        while not self._stop.wait(RENEW_SECONDS):
            try:
                self._renew()
                beats += 1
                if beats % 4 == 0:  # the kubelet's status report, at most every 40 s with a lease
                    self.core.patch_node_status(self.info.name, self.info.status())
            except Exception as err:  # noqa: BLE001 (a missed renewal is retried; the node goes NotReady if it lasts)
                print(f"node agent: lease renewal failed: {err}", flush=True)

    def stop(self, delete: bool = True) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=RENEW_SECONDS + 5)
        if delete:
            try:
                self.core.delete_node(self.info.name)
            except ApiException as err:
                if err.status != 404:
                    raise
