"""Processes under measurement: started pinned to a core when asked, their CPU time read from
/proc (utime + stime of the process and its reaped children), stopped for sure."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from rehearsal.localpg import free_port

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"
TICKS = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, CPU ticks: utime + stime + cutime + cstime) for every process."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # fields[0] is stat(5) field 3 (state)
        table[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    return table


def cpu_seconds(roots: Iterable[int]) -> float:
    """CPU seconds used so far by `roots` and all their descendants (and children they reaped)."""
    table = _proc_table()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in table.items():
        children[ppid].append(pid)
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        todo.extend(children[pid])
    return sum(table[pid][1] for pid in seen) / TICKS


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
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if log:
            out.close()  # type: ignore[union-attr]


@contextmanager
def target_server(delay: float, core: int | None = None, log: Path | None = None) -> Iterator[str]:
    """The loopback target (bench/target.py); yields its base URL once it answers."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.target", "--port", str(port), "--delay", str(delay)]
    with process(argv, core=core, log=log) as proc:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the target server exited with {proc.returncode}")
            try:
                httpx.get(f"{url}/arrivals", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the target server did not answer within 20 s") from None
                time.sleep(0.05)
        yield url


def take_arrivals(url: str) -> list[float]:
    return [float(t) for t in httpx.get(f"{url}/arrivals", timeout=30).json()]


def sleep_until(at: float) -> None:
    time.sleep(max(0.0, at - time.time()))
