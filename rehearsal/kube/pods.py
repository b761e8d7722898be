"""One pod on this node, from scheduling to deletion, as the kubelet runs it: its volumes made,
each container's environment resolved and its image mapped to a local process (images.py),
started on the pod's own loopback address; probes run; restarts by the pod's restartPolicy
with the kubelet's back-off; and the pod's status written back (phase, conditions, container
states, restart counts, exit codes), so Deployments roll, StatefulSets become ready and Jobs
succeed or fail on their exit code. Deleting the pod stops its processes within its grace
period, then removes it from the API, as the kubelet does."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rehearsal.kube.containers import Container, Probe, exec_check, http_check, stamp, tcp_check
from rehearsal.kube.images import Image, ImageError, Mounts, image_for
from rehearsal.kube.podenv import EnvError, resolve, route
from rehearsal.kube.volumes import VolumeError, pod_volumes

BACKOFF_S, BACKOFF_MAX_S = 10.0, 300.0
CREATING = ("ContainerCreating", "")
POD_GROUP_PREFIX = "bfdemo-pod-"  # each container's CPU group: bfdemo-pod-<pod uid>-<container>


@dataclass
class NodeContext:
    """What every pod worker needs of the node."""

    api: Any  # the node's API access (agent.Api)
    root: Path  # the node's folder: pods' volumes and logs
    images: dict[str, Image]
    addresses: Callable[[str], dict[str, str]]  # namespace -> Service name -> address
    host_ip: str


class PodWorker(threading.Thread):
    def __init__(self, node: NodeContext, pod: dict[str, Any], ip: str) -> None:
        meta = pod["metadata"]
        super().__init__(name=f"pod-{meta['namespace']}/{meta['name']}", daemon=True)
        self.node, self.pod, self.ip = node, pod, ip
        self.dir = node.root / "pods" / f"{meta['namespace']}_{meta['name']}_{meta['uid']}"
        # Volumes on a short path: PostgreSQL's socket path must fit in 107 bytes.
        self.volumes = node.root / "v" / meta["uid"][:8]
        self.containers: dict[str, Container] = {}
        self.probes: dict[str, dict[str, Probe]] = {}
        self.waiting: dict[str, tuple[str, str]] = {}
        self.exec_targets: dict[str, tuple[Image, dict[str, str], Mounts]] = {}
        self.next_start: dict[str, float] = {}
        self.deleting = threading.Event()  # set: stop the pod's processes
        self.keep_pod = False  # set with it when the node stops: the pod stays in the API
        self.done = threading.Event()
        self._reported: dict[str, Any] = {}
        self.started_at = stamp()

    def halt(self) -> None:
        """The node stops: the processes end, the pod stays (as when a kubelet goes away)."""
        self.keep_pod = True
        self.deleting.set()

    @property
    def key(self) -> tuple[str, str]:
        return self.pod["metadata"]["namespace"], self.pod["metadata"]["name"]

    def log_path(self, container: str) -> Path:
        return self.dir / "logs" / f"{container}.log"

    def run(self) -> None:
        try:
            self._prepare()
            while not self.deleting.wait(0.5):
                self._step(time.monotonic())
                self._report()
        except Exception as err:  # noqa: BLE001 - a broken pod must not take the node down
            print(f"node agent: pod {self.key}: {err!r}", flush=True)
        finally:
            self._teardown()
            self.done.set()

    # -- start ---------------------------------------------------------------------------
    def _prepare(self) -> None:
        spec = self.pod["spec"]
        if spec.get("initContainers"):
            raise ImageError("init containers are not supported by this node agent")
        while not self.deleting.is_set():
            try:
                mounts = pod_volumes(self.node.api, self.pod, self.volumes)
                for c in spec["containers"]:
                    if c["name"] not in self.containers:
                        self.containers[c["name"]] = self._container(c, mounts.get(c["name"], Mounts({})))
                return
            except (ImageError, EnvError, VolumeError) as err:
                reason = {
                    ImageError: "ErrImagePull",
                    EnvError: "CreateContainerConfigError",
                    VolumeError: "ContainerCreating",
                }[type(err)]
                for c in spec["containers"]:
                    self.waiting[c["name"]] = (reason, str(err))
                self._report()
                self.deleting.wait(2.0)

    def _container(self, c: dict[str, Any], mounts: Mounts) -> Container:
        image = image_for(c["image"], self.node.images)
        namespace = self.pod["metadata"]["namespace"]
        env = resolve(
            c, {**self.pod, "status": {"podIP": self.ip, "hostIP": self.node.host_ip}}, self.node.api.lookup(namespace)
        )
        env = route(env, self.node.addresses(namespace), namespace)
        command = [*(c.get("command") or []), *(c.get("args") or [])]
        uid = (c.get("securityContext") or {}).get(
            "runAsUser", (self.pod["spec"].get("securityContext") or {}).get("runAsUser")
        )
        launch = image.launch(command, env, self.ip, mounts, uid)
        meta = self.pod["metadata"]
        container = Container(
            c["name"],
            launch,
            self.log_path(c["name"]),
            ((c.get("resources") or {}).get("limits") or {}).get("cpu"),
            f"{POD_GROUP_PREFIX}{meta['uid'][:8]}-{c['name']}",
            notes=list(launch.notes),
            logs_on_error=c.get("terminationMessagePolicy") == "FallbackToLogsOnError",
        )
        self.exec_targets[c["name"]] = (image, env, mounts)
        self.probes[c["name"]] = {
            kind: Probe(c[f"{kind}Probe"], self._check(c[f"{kind}Probe"], image, env, mounts))
            for kind in ("readiness", "liveness")
            if c.get(f"{kind}Probe")
        }
        self.waiting.pop(c["name"], None)
        return container

    def _check(
        self, probe: dict[str, Any], image: Image, env: dict[str, str], mounts: Mounts
    ) -> Callable[[float], bool]:
        if "httpGet" in probe:
            get = probe["httpGet"]
            return http_check(self.ip, self._port(get["port"]), get.get("path", "/"))
        if "tcpSocket" in probe:
            return tcp_check(self.ip, self._port(probe["tcpSocket"]["port"]))
        argv, probe_env = image.exec(list(probe["exec"]["command"]), env, self.ip, mounts)
        return exec_check(argv, probe_env)

    def _port(self, port: int | str) -> int:
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for c in self.pod["spec"]["containers"]:
            for p in c.get("ports") or []:
                if p.get("name") == port:
                    return int(p["containerPort"])
        raise EnvError(f"no container port named {port}")

    def exec(self, container: str | None, command: list[str], stdin: bytes, timeout: float) -> tuple[int, bytes, bytes]:
        """`kubectl exec` into a running container: the command through the image's mapping."""
        name = container or self.pod["spec"]["containers"][0]["name"]
        c = self.containers.get(name)
        if c is None or c.proc is None or c.exit_code is not None or name not in self.exec_targets:
            raise EnvError(f"container {name} is not running")
        image, env, mounts = self.exec_targets[name]
        argv, exec_env = image.exec(command, env, self.ip, mounts)
        done = subprocess.run(argv, input=stdin, env=exec_env, capture_output=True, timeout=timeout, check=False)
        return done.returncode, done.stdout, done.stderr

    # -- run -----------------------------------------------------------------------------
    def _step(self, now: float) -> None:
        policy = self.pod["spec"].get("restartPolicy", "Always")
        for name, c in self.containers.items():
            probes = self.probes.get(name, {})
            if c.proc is None or (
                c.poll() is not None and policy != "Never" and (policy == "Always" or c.exit_code != 0)
            ):
                if c.proc is not None and name not in self.next_start:  # exited: back off, then restart
                    delay = min(BACKOFF_S * 2**c.restarts, BACKOFF_MAX_S)
                    self.next_start[name] = now + delay
                    self.waiting[name] = (
                        "CrashLoopBackOff",
                        f"back-off {delay:.0f}s restarting failed container={name}",
                    )
                if now >= self.next_start.get(name, 0):
                    if c.proc is not None:
                        c.restarts += 1
                    self.next_start.pop(name, None)
                    self.waiting.pop(name, None)
                    try:
                        c.start()
                    except (OSError, RuntimeError) as err:  # RunContainerError: backed off, tried again
                        c.restarts += 1
                        self.next_start[name] = now + min(BACKOFF_S * 2**c.restarts, BACKOFF_MAX_S)
                        self.waiting[name] = ("RunContainerError", str(err)[-500:])
                        continue
                    for probe in probes.values():
                        probe.reset(now)
                continue
            if c.exit_code is None:
                for probe in probes.values():
                    probe.tick(now)
                live = probes.get("liveness")
                if live is not None and live.failures >= live.spec.get("failureThreshold", 3):
                    c.stop(float(self.pod["spec"].get("terminationGracePeriodSeconds", 30)))  # restarted next step

    def _ready(self, name: str) -> bool:
        c = self.containers.get(name)
        if c is None or c.proc is None or c.exit_code is not None:
            return False
        probe = self.probes.get(name, {}).get("readiness")
        return probe.passing if probe is not None else True

    def status(self) -> dict[str, Any]:
        names = [c["name"] for c in self.pod["spec"]["containers"]]
        ready = all(self._ready(n) for n in names)
        ended = [self.containers[n].exit_code for n in names if n in self.containers]
        policy = self.pod["spec"].get("restartPolicy", "Always")
        phase = "Pending"
        if len(ended) == len(names) and all(code is not None for code in ended) and policy != "Always":
            if all(code == 0 for code in ended):
                phase = "Succeeded"
            elif policy == "Never":
                phase = "Failed"
            else:
                phase = "Running"
        elif any(c.proc is not None for c in self.containers.values()):
            phase = "Running"
        flag = {True: "True", False: "False"}
        conditions = [
            {"type": t, "status": s, "lastTransitionTime": self.started_at}
            for t, s in (
                ("PodReadyToStartContainers", "True"),
                ("Initialized", "True"),
                ("ContainersReady", flag[ready]),
                ("Ready", flag[ready]),
                ("PodScheduled", "True"),
            )
        ]
        statuses = []
        for c in self.pod["spec"]["containers"]:
            own = self.containers.get(c["name"])
            statuses.append(
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": self._ready(c["name"]),
                    "restartCount": own.restarts if own else 0,
                    "started": bool(own and own.proc and own.exit_code is None),
                    "containerID": own.container_id() if own else "",
                    "state": own.state(self.waiting.get(c["name"]))
                    if own
                    else {
                        "waiting": dict(zip(("reason", "message"), self.waiting.get(c["name"], CREATING), strict=True))
                    },
                }
            )
        return {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": statuses,
            "podIP": self.ip,
            "podIPs": [{"ip": self.ip}],
            "hostIP": self.node.host_ip,
            "hostIPs": [{"ip": self.node.host_ip}],
            "startTime": self.started_at,
            "qosClass": self.pod.get("status", {}).get("qosClass", "Burstable"),
        }

    def _report(self) -> None:
        status = self.status()
        if status != self._reported and not self.done.is_set():
            self.node.api.patch_pod_status(*self.key, status)
            self._reported = status

    # -- stop ----------------------------------------------------------------------------
    def _teardown(self) -> None:
        meta = self.pod["metadata"]
        grace = float(meta.get("deletionGracePeriodSeconds", self.pod["spec"].get("terminationGracePeriodSeconds", 30)))
        for c in self.containers.values():
            c.stop(grace)
        if self.deleting.is_set() and not self.keep_pod:
            self.node.api.finish_pod_deletion(*self.key, meta["uid"])
            shutil.rmtree(self.volumes, ignore_errors=True)
