"""Processes under measurement: started pinned to a core when asked, their CPU time read with
psutil (user + system of the process tree, and of the children it reaped), stopped for sure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from rehearsal.localpg import free_port
from rehearsal.processes import stop_group, wait_for

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(roots: Iterable[int]) -> float:
    """CPU seconds used so far by `roots` and all their descendants (and children they reaped)."""
    total, seen = 0.0, set()
    for proc in (p for pid in roots for p in _tree(pid)):
        if proc.pid in seen:
            continue
        seen.add(proc.pid)
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def pinned(argv: Sequence[str], core: int | None) -> list[str]:
    if core is None or shutil.which("taskset") is None:
        return list(argv)
    return ["taskset", "-c", str(core), *argv]


@contextmanager
def process(argv: Sequence[str], *, env: dict[str, str] | None = None, core: int | None = None,
            log: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(pinned(argv, core), env={**os.environ, **(env or {})}, cwd=ROOT,
                            stdout=out, stderr=out, start_new_session=True)
    try:
        yield proc
    finally:
        stop_group(proc)
        if log:
            out.close()  # type: ignore[union-attr]


@contextmanager
def target_server(delay: float, core: int | None = None, log: Path | None = None) -> Iterator[str]:
    """The loopback target (bench/target.py); yields its base URL once it answers."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.target", "--port", str(port), "--delay", str(delay)]
    with process(argv, core=core, log=log) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(proc, f"{url}/arrivals"), 20, interval=0.05, what="the target server answering")
        yield url


def _answers(proc: subprocess.Popen[bytes], url: str) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"the server exited with {proc.returncode}")
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.HTTPError:
        return False


def take_arrivals(url: str) -> list[float]:
    return [float(t) for t in httpx.get(f"{url}/arrivals", timeout=30).json()]


def sleep_until(at: float) -> None:
    time.sleep(max(0.0, at - time.time()))
