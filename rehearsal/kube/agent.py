"""The node agent: this machine as one Kubernetes node whose pods run as processes.

It registers the Node and keeps its lease (node.py), provisions volumes for claims (volumes.py),
runs each pod scheduled to it (pods.py), routes Services to their ready pods (proxy.py) and
serves container logs (kubelet.py). Each pod gets its own loopback address (127.2.0.0/16).

    python -m rehearsal.kube.agent --kubeconfig FILE --root DIR [--collector-upstream URL]
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import platform
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

from rehearsal.cpulimit import release_stale
from rehearsal.kube.api import Api
from rehearsal.kube.images import (
    COLLECTOR_REPOSITORY,
    POSTGRES_REPOSITORY,
    SERVICES_REPOSITORY,
    CollectorImage,
    Image,
    PostgresImage,
    ServicesImage,
)
from rehearsal.kube.kubelet import KubeletServer
from rehearsal.kube.node import NodeInfo, NodeLease
from rehearsal.kube.pods import POD_GROUP_PREFIX, NodeContext, PodWorker
from rehearsal.kube.proxy import Proxy

POD_RANGE = ipaddress.ip_network("127.2.0.0/16")
HOST_IP = "127.0.0.1"
KUBE_VERSION = "v1.34.4"
SYNC_S = 1.0
TERMINAL = ("Succeeded", "Failed")


def default_images(root: Path, collector_upstream: str) -> dict[str, Image]:
    from rehearsal.kube.layout import image_tree

    return {
        SERVICES_REPOSITORY: ServicesImage(image_tree(root / "image")),
        POSTGRES_REPOSITORY: PostgresImage(),
        COLLECTOR_REPOSITORY: CollectorImage(collector_upstream),
    }


class NodeAgent:
    def __init__(self, kubeconfig: Path, root: Path, images: dict[str, Image], name: str | None = None) -> None:
        self.root = root.resolve()
        self.name = name or f"bfdemo-{platform.node()}".lower()
        self.api = Api(kubeconfig)
        self.proxy = Proxy()
        self.workers: dict[str, PodWorker] = {}
        self.ips: dict[str, str] = {}
        self.services: list[dict[str, Any]] = []
        self.seen_notes: set[str] = set()
        self.seen_limits: dict[str, str] = {}
        self.context = NodeContext(self.api, self.root, images, self.addresses, HOST_IP)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="node-agent", daemon=True)
        self.kubelet: KubeletServer | None = None
        self.lease: NodeLease | None = None

    def start(self) -> NodeAgent:
        self.root.mkdir(parents=True, exist_ok=True)
        release_stale(POD_GROUP_PREFIX)  # a killed node's pods' CPU groups, now empty
        self.api.ensure_storage_class()
        self.proxy.start()
        self.kubelet = KubeletServer(HOST_IP, self.root / "kubelet", self.log_file, self.exec).start()
        self.lease = NodeLease(self.api.client, NodeInfo(self.name, HOST_IP, self.kubelet.port, KUBE_VERSION))
        self.lease.register()
        self.sync()
        self._thread.start()
        return self

    def addresses(self, namespace: str) -> dict[str, str]:
        return {
            s["metadata"]["name"]: self.proxy.address(namespace, s["metadata"]["name"])
            for s in self.services
            if s["metadata"]["namespace"] == namespace
        }

    def limits(self) -> dict[str, str]:
        """Each workload's CPU limit as this node enforced it (by the pods' app label)."""
        self._remember()
        return dict(self.seen_limits)

    def _remember(self) -> None:
        for worker in self.workers.values():
            app = (worker.pod["metadata"].get("labels") or {}).get("app.kubernetes.io/name", worker.key[1])
            for c in worker.containers.values():
                self.seen_notes.update(c.notes)
                if c.limit is not None:
                    self.seen_limits[app] = c.limit.describe()

    def notes(self) -> list[str]:
        """What stood in for an image in the pods this node ran (a report says so)."""
        self._remember()
        return sorted(self.seen_notes)

    def log_file(self, namespace: str, pod: str, container: str) -> Path | None:
        for worker in self.workers.values():
            if worker.key == (namespace, pod):
                return worker.log_path(container)
        return None

    def exec(self, request: dict[str, Any]) -> tuple[int, bytes, bytes]:
        """The shim's exec: `target` as kubectl takes it (pod/NAME, NAME, statefulset/NAME,
        deployment/NAME, job/NAME) in `namespace`, its first running pod."""
        namespace, target = request["namespace"], request["target"]
        kind, _, name = target.rpartition("/")
        for worker in list(self.workers.values()):
            meta = worker.pod["metadata"]
            owners = [(o["kind"], o["name"]) for o in meta.get("ownerReferences") or []]
            if meta["namespace"] != namespace:
                continue
            if (
                (kind in ("", "pod", "pods", "po") and meta["name"] == name)
                or (
                    kind in ("statefulset", "sts", "job")
                    and (("StatefulSet" if kind != "job" else "Job"), name) in owners
                )
                or (
                    kind in ("deployment", "deploy")
                    and any(k == "ReplicaSet" and n.startswith(f"{name}-") for k, n in owners)
                )
            ):
                stdin = base64.b64decode(request.get("stdin", ""))
                return worker.exec(
                    request.get("container"), request["command"], stdin, float(request.get("timeout", 1800))
                )
        raise LookupError(f"no running pod for {target} in namespace {namespace} on this node")

    def _pod_ip(self, uid: str) -> str:
        used = set(self.ips.values())
        self.ips[uid] = next(str(ip) for ip in POD_RANGE.hosts() if str(ip) not in used)
        return self.ips[uid]

    def sync(self) -> None:
        self.api.provision(self.root)
        self.services = self.api.services()
        pods = self.api.pods_on(self.name)
        self.proxy.sync(self.services, pods)
        seen = set()
        for pod in pods:
            meta = pod["metadata"]
            uid = meta["uid"]
            seen.add(uid)
            worker = self.workers.get(uid)
            if (
                worker is None
                and not meta.get("deletionTimestamp")
                and (pod.get("status") or {}).get("phase") not in TERMINAL
            ):
                worker = self.workers[uid] = PodWorker(self.context, pod, self._pod_ip(uid))
                worker.start()
            elif worker is None and meta.get("deletionTimestamp"):
                self.api.finish_pod_deletion(meta["namespace"], meta["name"], uid)  # never ran here
            elif worker is not None and meta.get("deletionTimestamp"):
                worker.pod = pod  # its grace period
                worker.deleting.set()
        self._remember()
        for uid, worker in list(self.workers.items()):
            if uid not in seen:
                worker.deleting.set()
            if worker.done.is_set():
                del self.workers[uid]
                self.ips.pop(uid, None)
        for folder in self.api.release_volumes():
            shutil.rmtree(folder, ignore_errors=True)

    def _loop(self) -> None:
        while not self._stop.wait(SYNC_S):
            try:
                self.sync()
            except Exception as err:  # noqa: BLE001 - the API may blink; the next sync retries
                print(f"node agent: sync failed: {err!r}", flush=True)

    def stop(self, delete_node: bool = True) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for worker in self.workers.values():
            worker.halt()
        for worker in self.workers.values():
            worker.join(timeout=60)
        self.proxy.stop()
        if self.kubelet is not None:
            self.kubelet.stop()
        if self.lease is not None:
            self.lease.stop(delete=delete_node)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--collector-upstream", default="", help="where the collector stand-in forwards OTLP")
    args = parser.parse_args(argv)
    agent = NodeAgent(args.kubeconfig, args.root, default_images(args.root, args.collector_upstream)).start()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    print(f"node agent: node {agent.name} is up; pods under {agent.root}", flush=True)
    done.wait()
    agent.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
