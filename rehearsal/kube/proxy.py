"""Services on this node, as kube-proxy's iptables mode makes them: each Service gets an
address, and connections to it are DNATed to its ready endpoints (spread at random), in the
kernel, so a request costs no user-space hop. The addresses are on loopback (127.1.0.0/16,
allocated here) rather than the cluster's service range, so a packet that no rule catches is
refused on this machine instead of leaving it: a Service without ready endpoints has no rule,
and its connections are refused at once, as kube-proxy's REJECT rule does.

All rules live in one nat chain of ours, jumped to from OUTPUT; stop() removes both."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CHAIN = "BFDEMO-SERVICES"
RANGE = ipaddress.ip_network("127.1.0.0/16")


class ProxyError(RuntimeError):
    pass


def _iptables(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    tool = "iptables-restore" if stdin is not None else "iptables"
    if shutil.which(tool) is None:
        raise ProxyError(f"{tool} is not installed (Debian package iptables): the node's Services need it")
    result = subprocess.run([tool, *args], input=stdin, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise ProxyError(f"{tool} {' '.join(args)}: {result.stderr.strip()}")
    return result


@dataclass(frozen=True)
class Backend:
    ip: str
    port: int


@dataclass(frozen=True)
class ServicePort:
    address: str
    port: int
    backends: tuple[Backend, ...]


def rules(ports: Iterable[ServicePort]) -> str:
    """The chain's contents, for iptables-restore --noflush (which replaces this chain alone)."""
    lines = ["*nat", f":{CHAIN} - [0:0]"]
    for sp in sorted(ports, key=lambda p: (p.address, p.port)):
        match = f"-A {CHAIN} -d {sp.address}/32 -p tcp --dport {sp.port}"
        if not sp.backends:
            continue  # nothing listens on the Service's loopback address: connections are refused
        for i, backend in enumerate(sp.backends):
            left = len(sp.backends) - i
            chance = "" if left == 1 else f" -m statistic --mode random --probability {1 / left:.5f}"
            lines.append(f"{match}{chance} -j DNAT --to-destination {backend.ip}:{backend.port}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _target_port(port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    target = port.get("targetPort", port["port"])
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in pod["spec"]["containers"]:
        for p in container.get("ports") or []:
            if p.get("name") == target:
                return int(p["containerPort"])
    return None


def ready_backends(
    service: Mapping[str, Any], port: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]
) -> tuple[Backend, ...]:
    """The Service's endpoints for one port, worked out as the EndpointSlice controller does:
    its selector's pods in its namespace that are Ready and have an address. The controller
    itself cannot list them here: EndpointSlices refuse loopback addresses, which these pods have."""
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return ()
    found = []
    for pod in pods:
        meta, status = pod["metadata"], pod.get("status") or {}
        labels = meta.get("labels") or {}
        if meta["namespace"] != service["metadata"]["namespace"] or meta.get("deletionTimestamp"):
            continue
        if any(labels.get(k) != v for k, v in selector.items()) or not status.get("podIP"):
            continue
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
        number = _target_port(port, pod)
        if ready and number is not None:
            found.append(Backend(status["podIP"], number))
    return tuple(sorted(set(found), key=lambda b: (b.ip, b.port)))


@dataclass
class Proxy:
    """Service addresses (namespace/name -> address) and the rules that route them."""

    addresses: dict[str, str] = field(default_factory=dict)
    _applied: str = ""

    def start(self) -> Proxy:
        self.stop()
        _iptables("-t", "nat", "-N", CHAIN)
        _iptables("-t", "nat", "-A", "OUTPUT", "-j", CHAIN)
        return self

    def address(self, namespace: str, name: str) -> str:
        key = f"{namespace}/{name}"
        if key not in self.addresses:
            used = set(self.addresses.values())
            free = next(str(ip) for ip in RANGE.hosts() if str(ip) not in used)
            self.addresses[key] = free
        return self.addresses[key]

    def sync(self, services: Iterable[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]) -> None:
        ports = []
        for svc in services:
            meta = svc["metadata"]
            if (svc.get("spec") or {}).get("type") == "ExternalName":
                continue
            address = self.address(meta["namespace"], meta["name"])
            for port in svc["spec"].get("ports") or []:
                if port.get("protocol", "TCP") == "TCP":
                    ports.append(ServicePort(address, int(port["port"]), ready_backends(svc, port, pods)))
        text = rules(ports)
        if text != self._applied:
            _iptables("--noflush", stdin=text)
            self._applied = text

    def stop(self) -> None:
        _iptables("-t", "nat", "-D", "OUTPUT", "-j", CHAIN, check=False)
        _iptables("-t", "nat", "-F", CHAIN, check=False)
        _iptables("-t", "nat", "-X", CHAIN, check=False)
        self._applied = ""
