"""Pods as processes: a workload's rendered command, from the image's file tree, with its
resolved environment (service DNS names mapped to local ports), under its CPU limit."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from rehearsal.cpulimit import CpuLimit, cpu_limit
from rehearsal.localpg import free_port
from rehearsal.processes import stop_group, wait_for
from rehearsal.stack import die_with_parent
from rehearsal.twin.layout import image_python
from rehearsal.twin.pods import Pod


def localize(env: dict[str, str], addresses: dict[str, tuple[str, int]], ports: dict[str, int]) -> dict[str, str]:
    """The env with each Service's DNS name and port replaced by where it runs here."""
    out = {}
    for key, value in env.items():
        for service, (host, port) in addresses.items():
            value = value.replace(f"//{service}:{ports[service]}", f"//{host}:{port}")
        out[key] = value
    if "DB_HOST" in out and out["DB_HOST"] in addresses:
        out["DB_HOST"], port = addresses[out["DB_HOST"]]
        out["DB_PORT"] = str(port)
    return out


@dataclass
class Pods:
    """The pods the twin runs, each its own process group, logs under `logs`."""

    tree: Path
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    local_ports: dict[str, int] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    groups: list[CpuLimit] = field(default_factory=list)

    def start(self, pod: Pod, env: dict[str, str]) -> subprocess.Popen[bytes]:
        prefix, runtime = image_python(pod.command[0])
        extra = {}
        if pod.ports:
            self.local_ports[pod.name] = free_port()
            extra["PORT"] = str(self.local_ports[pod.name])  # one host: every pod its own port
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{pod.name}.log", "ab") as log:
            proc = subprocess.Popen([*prefix, *pod.command[1:]], cwd=self.tree, stdout=log, stderr=subprocess.STDOUT,
                                    env={"PATH": "/usr/bin:/bin", **runtime, **env, **extra},
                                    start_new_session=True, preexec_fn=die_with_parent)
        if pod.cpu_limit:
            limit = cpu_limit(f"bfdemo-twin-{pod.name}", pod.cpu_limit)
            limit.confine(proc.pid)
            self.limits[pod.name] = limit.describe()
            self.groups.append(limit)
        self.procs[pod.name] = proc
        return proc

    def run_to_completion(self, pod: Pod, env: dict[str, str], timeout: float) -> None:
        """A Job: its pod runs until it exits; anything but 0 fails the twin, as a Job's failure
        fails `pulumi up`."""
        proc = self.start(pod, env)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            raise RuntimeError(f"Job {pod.name} did not finish within {timeout:.0f} s") from None
        if code != 0:
            raise RuntimeError(f"Job {pod.name} failed with exit code {code}; see {self.logs / pod.name}.log")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.local_ports[name]}"

    def wait_ready(self, pod: Pod, timeout: float = 90.0) -> None:
        """Polls the pod's rendered readiness probe, at its path, on the pod's port."""
        if pod.readiness is None:
            return

        def ready() -> bool:
            if self.procs[pod.name].poll() is not None:
                raise RuntimeError(f"{pod.name} exited; see {self.logs / pod.name}.log")
            try:
                return httpx.get(self.url(pod.name) + pod.readiness.path, timeout=2).status_code == 200  # type: ignore[union-attr]
            except httpx.HTTPError:
                return False

        started = time.monotonic()
        wait_for(ready, timeout, interval=0.2, what=f"{pod.name}'s readiness probe")
        print(f"  {pod.name} ready after {time.monotonic() - started:.1f} s ({self.limits.get(pod.name, 'no limit')})",
              flush=True)

    def stop_all(self) -> None:
        for name in list(self.procs):
            stop_group(self.procs.pop(name))
        for limit in self.groups:
            limit.release()
