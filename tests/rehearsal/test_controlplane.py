"""The local control plane, driven with the built kubectl: the version the Pulumi provider
reads, PodSecurity enforcing `restricted` as a real cluster does, the controller manager
making a Deployment's ReplicaSet and Pod, and nothing left running or listening after stop."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from rehearsal.kube.controlplane import ControlPlane
from rehearsal.kube.procs import engine_bin_dirs, find_binary, missing_binaries
from rehearsal.processes import wait_for

pytestmark = pytest.mark.slow

RESTRICTED_NS = "locked"
APPS_NS = "apps"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    bins = engine_bin_dirs()
    missing = missing_binaries(bins)
    if missing:
        pytest.skip(f"engine binaries not built ({', '.join(missing)}): run python3 tools/engine/build.py")
    with ControlPlane(tmp_path_factory.mktemp("controlplane"), bins) as started:
        yield started


def kubectl(plane: ControlPlane, *args: str, stdin: Any = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    binary = find_binary("kubectl", plane.bin_dirs)
    assert binary is not None
    env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig)}
    result = subprocess.run([str(binary), *args], input=None if stdin is None else json.dumps(stdin),
                            capture_output=True, text=True, env=env, timeout=60)
    if check and result.returncode:
        raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr}")
    return result


def get(plane: ControlPlane, *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(kubectl(plane, "get", "-o", "json", *args).stdout)
    return result


def namespace(plane: ControlPlane, name: str, labels: dict[str, str] | None = None) -> None:
    """A namespace, once its `default` ServiceAccount exists: until then the ServiceAccount
    admission plugin refuses its pods (a real cluster does the same)."""
    kubectl(plane, "create", "-f", "-", stdin={"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": name, "labels": labels or {}}})
    wait_for(lambda: kubectl(plane, "get", "serviceaccount", "default", "-n", name, check=False).returncode == 0,
             60, interval=0.5, what=f"the default ServiceAccount in {name}")


def pod(name: str, pod_security: dict[str, Any], container_security: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"securityContext": pod_security,
                     "containers": [{"name": "main", "image": "busybox:1.37", "command": ["sleep", "3600"],
                                     "securityContext": container_security}]}}


def test_version_is_the_pinned_release(plane: ControlPlane) -> None:
    versions = json.loads(kubectl(plane, "version", "-o", "json").stdout)
    assert versions["serverVersion"]["gitVersion"] == "v1.34.4"
    assert versions["clientVersion"]["gitVersion"] == "v1.34.4"
    assert (versions["serverVersion"]["major"], versions["serverVersion"]["minor"]) == ("1", "34")


def test_listens_on_loopback_only(plane: ControlPlane) -> None:
    listening = [(proc.name(), conn.laddr.ip, conn.laddr.port)
                 for proc in map(psutil.Process, plane.pids)
                 for conn in proc.net_connections(kind="inet") if conn.status == psutil.CONN_LISTEN]
    assert listening
    assert {ip for _, ip, _ in listening} == {"127.0.0.1"}, listening


def test_restricted_namespace_rejects_a_pod_that_is_not(plane: ControlPlane) -> None:
    namespace(plane, RESTRICTED_NS, {"pod-security.kubernetes.io/enforce": "restricted"})
    result = kubectl(plane, "create", "-n", RESTRICTED_NS, "-f", "-", stdin=pod("loose", {}, {}), check=False)
    assert result.returncode != 0
    assert "restricted" in result.stderr, result.stderr
    assert "forbidden" in result.stderr, result.stderr


def test_restricted_namespace_admits_a_compliant_pod(plane: ControlPlane) -> None:
    compliant = pod("tight", {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})
    kubectl(plane, "create", "-n", RESTRICTED_NS, "-f", "-", stdin=compliant)
    assert get(plane, "pod", "tight", "-n", RESTRICTED_NS)["status"]["phase"] == "Pending"  # no node yet


def test_deployment_gets_its_replicaset_and_pod(plane: ControlPlane) -> None:
    namespace(plane, APPS_NS)
    labels = {"app": "web"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels}, "spec": pod("x", {}, {})["spec"]}}}
    kubectl(plane, "create", "-n", APPS_NS, "-f", "-", stdin=deployment)
    wait_for(lambda: get(plane, "replicasets", "-n", APPS_NS, "-l", "app=web")["items"], 120, interval=0.5,
             what="the ReplicaSet")
    pods = wait_for(lambda: get(plane, "pods", "-n", APPS_NS, "-l", "app=web")["items"], 120, interval=0.5,
                    what="the Deployment's Pod")
    assert [p["status"]["phase"] for p in pods] == ["Pending"]  # nothing schedules it: no node


def _sessions() -> set[int]:
    """The session id of every process (field 6 of /proc/PID/stat, after the command's parens)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            found.add(int(stat.read_text().rsplit(")", 1)[1].split()[3]))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server would: TIME_WAIT is no use
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def test_stop_leaves_no_process_nor_port(plane: ControlPlane) -> None:
    pids, ports = plane.pids, list(plane.ports.values())
    assert len(pids) == 4 and all(psutil.pid_exists(pid) for pid in pids)
    plane.stop()
    assert not [pid for pid in pids if psutil.pid_exists(pid)]
    assert not set(pids) & _sessions()  # each was its session's leader: no forked straggler either
    assert [port for port in ports if not _port_free(port)] == []
    assert not plane.run_dir.exists()
    assert {log.name for log in (plane.workdir / "logs").iterdir()} == {
        "etcd.log", "kube-apiserver.log", "kube-controller-manager.log", "kube-scheduler.log"}
