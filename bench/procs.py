"""Processes under measurement: started pinned to a core when asked, their CPU time read from
/proc (utime + stime of the process and its reaped children), stopped for sure."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from scenarios.localpg import free_port

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by `pid` (and children it waited for), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command field: utime, stime, cutime, cstime are fields 14-17 of stat(5).
    return sum(int(v) for v in fields[11:15]) / TICKS


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
