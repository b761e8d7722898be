"""The local stack: embedded PostgreSQL plus the services as separate processes, exactly as
they run in their containers (`python -m services <name>`), with their own pools."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from rehearsal.localpg import LocalPostgres, free_port
from rehearsal.processes import stop_group, stop_groups, wait_for
from services.ports import STOREFRONT

URL_ENV = {"product-catalog": "PRODUCT_CATALOG_URL", "cart": "CART_URL", "checkout": "CHECKOUT_URL"}


def die_with_parent() -> None:
    """Runs in the child before exec: if the runner dies, even by kill -9, the kernel sends this
    service SIGTERM (Linux PR_SET_PDEATHSIG), so a crashed rehearsal leaves no process behind."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@dataclass
class LocalStack:
    workdir: Path
    pg: LocalPostgres
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def service_env(self, config: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(self.pg.env())
        env.update(config)
        env.update({URL_ENV[n]: self.url(n) for n in STOREFRONT if n in self.ports})
        env.update(extra or {})
        return env

    def start(self, name: str, env: dict[str, str]) -> None:
        self.ports[name] = free_port()
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as log:
            # Own process group: a stop reaches the worker and anything it spawned.
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "services", name, "--host", "127.0.0.1", "--port", str(self.ports[name])],
                env={**env, "OTEL_SERVICE_NAME": name}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent,
            )

    def ready(self, name: str) -> bool:
        """Whether `name` answers its readiness probe; a service that exited is an error."""
        proc = self.procs[name]
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.workdir}/logs/{name}.log")
        try:
            return httpx.get(f"{self.url(name)}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, names: tuple[str, ...] | list[str], timeout: float = 60.0) -> None:
        for name in names:
            wait_for(partial(self.ready, name), timeout, what=f"{name} answering /ready")

    def start_storefront(self, config: dict[str, str], extra: dict[str, str] | None = None) -> None:
        """Starts the storefront's services; they are ready once `wait_ready(STOREFRONT)` returns."""
        for name in STOREFRONT:
            self.start(name, self.service_env(config, extra))

    def stop(self, name: str, grace: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            stop_group(proc, grace)

    def stop_all(self, grace: float = 10.0) -> None:
        procs, self.procs = list(self.procs.values()), {}
        stop_groups(procs, grace)

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}
