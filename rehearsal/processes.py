"""Processes and waits: polling until something holds, stopping processes for sure, telling
our service processes apart. One helper each, for the runner, the local stack, the benchmarks
and the tests."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import psutil

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """What was awaited did not happen in time; the message names it."""


def poll(probe: Callable[[], T], done: Callable[[T], bool], timeout: float, interval: float = 0.1) -> T:
    """The probe's last value, once `done(value)` holds or `timeout` seconds have passed. A probe
    that raises ends the wait: that is a failure, not a 'not yet'."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def wait_for(probe: Callable[[], T], timeout: float, *, interval: float = 0.1,
             what: str = "the condition") -> T:
    """The probe's first truthy value; WaitTimeout, naming `what`, if none comes in time."""
    value = poll(probe, bool, timeout, interval)
    if not value:
        raise WaitTimeout(f"{what} did not happen within {timeout:g} s")
    return value


def stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM to the process's group (a server and whatever it spawned), SIGKILL after
    `grace` seconds; returns once the process is reaped."""
    stop_groups([proc], grace)


def stop_groups(procs: Iterable[subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    """The same for several at once, all signalled first: they shut down side by side, under
    one shared grace (one after the other, four services took their graceful stops in turn)."""
    running = [proc for proc in procs if proc.poll() is None]
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in running:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def stop_pids(pids: Iterable[int], grace: float = 10.0) -> None:
    """The same for processes this one did not start (a crashed run's services): each group
    gets SIGTERM, then SIGKILL for whoever is still alive after `grace` seconds."""
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            procs.append(psutil.Process(pid))
            os.killpg(pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)


def alive(pid: int) -> bool:
    """A live process, not a zombie: a zombie holds no socket, no memory, no lock."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def cmdline(pid: int) -> list[str]:
    """A live process's command line; empty for a process gone or a zombie."""
    try:
        return psutil.Process(pid).cmdline() if alive(pid) else []
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def is_service(pid: int) -> bool:
    """One of ours: `python -m services <name>`."""
    args = cmdline(pid)
    return "-m" in args and "services" in args
