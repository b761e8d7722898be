"""The control plane's processes: finding the engine's binaries, starting each in a session
of its own with its output in a log file, and stopping every one of them for sure.

Standard library only (no psutil): the launcher runs before any venv exists, e.g. from `make`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "tools" / "engine" / "build.py"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
# Variables that could send a component's requests elsewhere, or point kubectl at another cluster.
_FOREIGN_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "KUBECONFIG")


class ControlPlaneError(RuntimeError):
    """The control plane did not come up; the message says which part and why."""


def engine_bin_dirs() -> list[Path]:
    """The bin folders tools/engine/build.py builds into (etcd and Kubernetes are separate
    modules, hence separate folders), whether built yet or not."""
    out = subprocess.run([sys.executable, str(BUILD_SCRIPT), "--print"], capture_output=True, text=True,
                         check=True).stdout
    return [Path(line) for line in out.splitlines() if line.strip()]


def find_binary(name: str, bin_dirs: Iterable[Path]) -> Path | None:
    """`name` in the first of `bin_dirs` holding it as an executable file."""
    for folder in bin_dirs:
        path = folder / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def missing_binaries(bin_dirs: Sequence[Path]) -> list[str]:
    """The control plane's binaries none of `bin_dirs` holds."""
    return [name for name in BINARIES if find_binary(name, bin_dirs) is None]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now. Another process may take it before ours binds
    it; a component failing to bind then dies during start, which reports it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass
class Component:
    """One running program of the control plane."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> int | None:
        """Its exit status once it has ended (reaped), else None."""
        return self.popen.poll()

    def died_message(self) -> str:
        return f"{self.name} exited with status {self.exited()}; the end of {self.log}:\n{log_tail(self.log)}"


def spawn(name: str, argv: Sequence[str | Path], logs: Path, cwd: Path) -> Component:
    """`argv` started in a new session (so that stopping reaches whatever it forks), stdin
    closed, stdout and stderr appended to logs/<name>.log."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    env = {key: value for key, value in os.environ.items() if key not in _FOREIGN_ENV}
    with log.open("ab") as out:  # the child keeps its own descriptor
        popen = subprocess.Popen([str(arg) for arg in argv], stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True)
    return Component(name, popen, log)


def _signal_group(component: Component, sig: signal.Signals) -> None:
    # The session's group: its leader's pid. Gone already (and reaped) is fine.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(component.pid, sig)


def stop_all(components: Sequence[Component], grace: float = 10.0) -> None:
    """SIGTERM to each group, newest first (clients before the servers they talk to), then
    SIGKILL for any still running `grace` seconds after its SIGTERM. Returns once all are
    reaped; SIGKILL goes to the group even if the leader has exited, for any straggler."""
    for component in reversed(components):
        if component.exited() is None:
            _signal_group(component, signal.SIGTERM)
            try:
                component.popen.wait(grace)
            except subprocess.TimeoutExpired:
                print(f"{component.name} ignored SIGTERM for {grace:g} s: SIGKILL", file=sys.stderr)
        _signal_group(component, signal.SIGKILL)
        component.popen.wait()


def wait_until(probe: Callable[[], object], what: str, timeout: float, components: Sequence[Component],
               interval: float = 0.3) -> None:
    """Returns once `probe()` is truthy; raises ControlPlaneError if a component dies
    meanwhile (with the end of its log) or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for component in components:
            if component.exited() is not None:
                raise ControlPlaneError(f"while waiting for {what}: {component.died_message()}")
        if probe():
            return
        if time.monotonic() > deadline:
            raise ControlPlaneError(f"{what} did not happen within {timeout:g} s")
        time.sleep(interval)
