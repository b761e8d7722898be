"""One container as a process: started from its Launch (images.py) in its own process group,
under its CPU limit as a CFS quota (as the kubelet sets one), its output in its log file; and
its probes, run as the kubelet runs them (httpGet and tcpSocket on the pod's address, exec
through the image's mapping), counted against their thresholds."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rehearsal.cpulimit import CpuLimit, cpu_limit
from rehearsal.kube.images import Launch
from rehearsal.processes import stop_group
from rehearsal.stack import die_with_parent


def stamp(at: float | None = None) -> str:
    return datetime.fromtimestamp(at if at is not None else time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_tail(log: Path, lines: int = 80, limit: int = 2048) -> str:
    """The end of a log as the kubelet takes it for a termination message: its last 80 lines
    or 2048 bytes, whichever is shorter."""
    try:
        data = log.read_bytes()[-limit:]
    except OSError:
        return ""
    return b"".join(data.splitlines(keepends=True)[-lines:]).decode(errors="replace")


@dataclass
class Probe:
    """A probe's schedule and counts. `check` says whether one attempt passed."""

    spec: Mapping[str, Any]
    check: Callable[[float], bool]
    started: float = 0.0
    last: float = 0.0
    successes: int = 0
    failures: int = 0
    passing: bool = False

    def tick(self, now: float) -> bool | None:
        """Runs the probe if due; the new verdict when it changed, else None."""
        if now - self.started < self.spec.get("initialDelaySeconds", 0) or now - self.last < self.spec.get(
            "periodSeconds", 10
        ):
            return None
        self.last = now
        ok = self.check(float(self.spec.get("timeoutSeconds", 1)))
        self.successes, self.failures = (self.successes + 1, 0) if ok else (0, self.failures + 1)
        before = self.passing
        if ok and self.successes >= self.spec.get("successThreshold", 1):
            self.passing = True
        elif not ok and self.failures >= self.spec.get("failureThreshold", 3):
            self.passing = False
        return self.passing if self.passing != before else None

    def reset(self, now: float) -> None:
        self.started, self.last, self.successes, self.failures, self.passing = now, 0.0, 0, 0, False


def http_check(host: str, port: int, path: str) -> Callable[[float], bool]:
    url = f"http://{host}:{port}{path}"

    def check(timeout: float) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the pod's own address
                return 200 <= response.status < 400
        except (urllib.error.URLError, OSError):
            return False

    return check


def tcp_check(host: str, port: int) -> Callable[[float], bool]:
    def check(timeout: float) -> bool:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            return False

    return check


def exec_check(argv: list[str], env: dict[str, str]) -> Callable[[float], bool]:
    def check(timeout: float) -> bool:
        try:
            return subprocess.run(argv, env=env, capture_output=True, timeout=timeout, check=False).returncode == 0
        except (subprocess.TimeoutExpired, OSError):
            return False

    return check


@dataclass
class Container:
    name: str
    launch: Launch
    log: Path
    cpu: str | None  # resources.limits.cpu
    group: str  # the cgroup's name, unique to pod and container
    proc: subprocess.Popen[bytes] | None = None
    limit: CpuLimit | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    exit_code: int | None = None
    restarts: int = 0
    prepared: bool = False
    notes: list[str] = field(default_factory=list)
    # terminationMessagePolicy FallbackToLogsOnError: a failed container's message is the end
    # of its log. (The File policy's /dev/termination-log has no place in a process; none is read.)
    logs_on_error: bool = False

    def start(self) -> None:
        if self.launch.prepare is not None and not self.prepared:
            self.launch.prepare()
            self.prepared = True
        self.log.parent.mkdir(parents=True, exist_ok=True)
        ids: dict[str, Any] = {}
        if self.launch.user is not None:
            ids = {"user": self.launch.user, "group": self.launch.group, "extra_groups": []}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.launch.argv,
                cwd=self.launch.cwd,
                env=self.launch.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
                **ids,
            )
        if self.cpu:
            self.limit = self.limit or cpu_limit(self.group, self.cpu)
            self.limit.confine(self.proc.pid)
        self.started_at, self.exit_code = time.time(), None

    def poll(self) -> int | None:
        """The exit code once the process has ended (recorded once), else None."""
        if self.proc is not None and self.exit_code is None:
            code = self.proc.poll()
            if code is not None:
                self.exit_code, self.finished_at = (code if code >= 0 else 128 - code), time.time()
        return self.exit_code

    def stop(self, grace: float) -> None:
        if self.proc is not None:
            stop_group(self.proc, grace)
            self.poll()
        if self.limit is not None:
            self.limit.release()

    def state(self, waiting: tuple[str, str] | None = None) -> dict[str, Any]:
        if waiting is not None:
            return {"waiting": {"reason": waiting[0], "message": waiting[1]}}
        if self.proc is None:
            return {"waiting": {"reason": "ContainerCreating"}}
        if self.exit_code is None:
            return {"running": {"startedAt": stamp(self.started_at)}}
        terminated = {
            "exitCode": self.exit_code,
            "reason": "Completed" if self.exit_code == 0 else "Error",
            "startedAt": stamp(self.started_at),
            "finishedAt": stamp(self.finished_at),
            "containerID": self.container_id(),
        }
        if self.exit_code != 0 and self.logs_on_error:
            terminated["message"] = log_tail(self.log)
        return {"terminated": terminated}

    def container_id(self) -> str:
        return f"process://{self.proc.pid}" if self.proc is not None else ""
