"""The database's CPU limit on the laptop: the pod's limit as a CFS quota, really applied to
the server's processes (a hard cap, so the test bounds usage from above and cannot be made
flaky by a busy machine), and said so in what calibration records."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from rehearsal.cpulimit import PERIOD_US, CpuLimit, cpu_limit, cpus, database_cpu, database_cpu_limit
from rehearsal.localpg import LocalPostgres

BUSY = "import time\nend = time.time() + 30\nwhile time.time() < end: pass\n"


def test_quantities_read_as_kubernetes_writes_them() -> None:
    assert cpus("1") == 1.0 and cpus("1.5") == 1.5 and cpus("500m") == 0.5
    assert CpuLimit("500m", None).quota_us == PERIOD_US // 2
    assert database_cpu_limit() == "1"  # Pulumi.yaml's postgresCpuLimit: one number, both places


def test_without_a_cgroup_the_record_says_why() -> None:
    assert "no CPU limit" in CpuLimit("1", None).describe()


@pytest.fixture
def half_cpu() -> Iterator[CpuLimit]:
    limit = cpu_limit("bfdemo-test-half", "500m")
    if limit.procs is None:
        pytest.skip(limit.describe())
    yield limit
    limit.release()


def test_confined_processes_get_no_more_than_the_quota(half_cpu: CpuLimit) -> None:
    parent = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {BUSY!r}])\n{BUSY}"])
    try:
        time.sleep(0.5)  # the child is forked before the move: the move must take it too
        half_cpu.confine(parent.pid)
        procs = [psutil.Process(parent.pid), *psutil.Process(parent.pid).children()]
        assert len(procs) == 2
        assert {str(p.pid) for p in procs} <= set(half_cpu.procs.read_text().split())  # type: ignore[union-attr]
        before = sum(sum(p.cpu_times()[:2]) for p in procs)
        started = time.monotonic()
        time.sleep(3.0)
        used = sum(sum(p.cpu_times()[:2]) for p in procs) - before
        # Two busy loops could use two cores; the quota caps them at half of one (+ slack).
        assert used / (time.monotonic() - started) < 0.7
    finally:
        for proc in psutil.Process(parent.pid).children():
            proc.kill()
        parent.kill()
        parent.wait(10)


def test_the_rehearsal_database_is_niced_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_DB_CPU_QUOTA", "0")
    limit = database_cpu(Path(tempfile.mkdtemp()) / "pgdata")
    assert limit.procs is None and "DEMO_DB_CPU_QUOTA=0" in limit.describe()


def test_the_rehearsal_database_runs_under_the_pods_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_DB_CPU_QUOTA", raising=False)  # the default, where the machine allows it
    pgdata = Path(tempfile.mkdtemp(prefix="bfdemo-cpulimit-")) / "pgdata"
    limit = database_cpu(pgdata)
    if limit.procs is None:
        pytest.skip(limit.describe())
    pg = LocalPostgres(pgdata, cpu=limit).up()
    try:
        members = set(limit.procs.read_text().split())
        server = psutil.Process(pg.postmaster_pid())  # type: ignore[arg-type]
        assert {str(p.pid) for p in (server, *server.children())} <= members
        assert "limited to 1 CPU" in limit.describe() and str(PERIOD_US) in limit.describe()
    finally:
        pg.stop("immediate")
    assert not limit.procs.parent.exists()  # a stopped database leaves no cgroup behind
    pg.up()  # and a restarted one is limited again
    try:
        assert str(pg.postmaster_pid()) in limit.procs.read_text().split()
        v1 = limit.procs.parent / "cpu.cfs_quota_us"
        quota = v1.read_text() if v1.exists() else (limit.procs.parent / "cpu.max").read_text().split()[0]
        assert quota.strip() == str(limit.quota_us)
    finally:
        pg.stop("immediate")
