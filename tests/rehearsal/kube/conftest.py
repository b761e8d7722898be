"""The lifecycle suite's cluster and stack: one local cluster and one Pulumi stack for the whole
module, the commands run in the order a user types them, and the checks that read the database
through `kubectl exec ... psql` as the scenario's own commands reach it."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from rehearsal.cluster import pod_psql
from rehearsal.kube.cluster import CONTEXT, LocalCluster
from rehearsal.kube.procs import engine_bin_dirs, missing_binaries
from rehearsal.kube.stack import ROOT, PulumiStack
from rehearsal.kube.twin import Deployment, stack_config
from rehearsal.otlp import make_receiver
from scenarios.catalogue import get_scenario

# The last run's `pulumi preview --diff` of the scenario, as a reviewer sees it.
GOLDEN = Path(os.environ.get("BFDEMO_PREVIEW_OUT", "build/preview-diff-blackfriday.txt"))

NAMESPACE = "ecommerce-demo"
DROPPED = get_scenario("blackfriday").dropped_indexes
STACK_FILE = ROOT / "Pulumi.demo.yaml"  # the stack file users deploy, with this machine's context
# Short minutes, a small fixed catalog, a quick calibration; the revert Job far away until its own test.
CONFIG, _ = stack_config(STACK_FILE, {"demoMinuteSeconds": "6", "catalogProducts": "5000",
                                      "calibrationProbe": "quick", "revertAfterMinutes": "600"})


@dataclass
class Deployed:
    cluster: LocalCluster
    stack: PulumiStack
    twin: Deployment  # what `make twin` plays and judges, on this same stack

    @property
    def kubectl(self) -> str:
        return f"kubectl --context {CONTEXT} -n {NAMESPACE}"

    def psql(self, sql: str) -> str:
        return pod_psql(self.kubectl, sql, self.cluster.env())

    def kube(self, *args: str) -> str:
        return subprocess.run([*self.kubectl.split(), *args], capture_output=True, text=True, check=True,
                              env=self.cluster.env()).stdout

    def urns(self) -> list[str]:
        return re.findall(r"URN: (\S+)", self.stack.run("stack", "--show-urns").stdout)

    def sessions(self, where: str) -> int:
        return int(self.psql(f"SELECT count(*) FROM pg_stat_activity WHERE {where}"))

    @contextmanager
    def reading_products(self) -> Iterator[None]:
        """An open transaction that has read the products table, as a long report's would: DDL
        on the table waits for it."""
        report = "application_name = 'long-report'"
        argv = [*self.kubectl.split(), "exec", "-i", "statefulset/postgres", "-c", "postgres", "--", "psql",
                "-X", "-U", "ecommerce_user", "-d", "dbname=ecommerce application_name=long-report"]
        holder = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, text=True, env=self.cluster.env())
        assert holder.stdin is not None
        holder.stdin.write("BEGIN; SELECT count(*) FROM products; SELECT pg_sleep(600);\n")
        holder.stdin.close()
        try:
            wait_for(lambda: self.sessions(f"{report} AND query LIKE '%pg_sleep%'") == 1, "the report's transaction")
            yield
        finally:
            self.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {report}")
            holder.wait(timeout=30)

    def indexes(self) -> set[str]:
        names = ",".join(f"'{name}'" for name in DROPPED)
        return set(self.psql(f"SELECT indexname FROM pg_indexes WHERE indexname IN ({names})").split())


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)  # a polling interval


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (Pulumi starts its plugins in groups of their own)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    missing = missing_binaries(engine_bin_dirs())
    if missing and not os.environ.get("CI"):
        pytest.skip(f"the engine is not built ({', '.join(missing)}): make engine")
    # Not under pytest's own temporary root: any pytest starting meanwhile makes that 0700 again,
    # and PostgreSQL, run as an unprivileged user, loses its data directory (measured: a PANIC
    # at its next checkpoint). The pods' logs stay there after the run (volumes do not).
    work = Path(tempfile.mkdtemp(prefix="bfdemo-lifecycle-"))
    receiver = make_receiver(None, None)  # the collector's stand-in forwards here
    with LocalCluster(work / "cluster", collector_upstream=receiver.endpoint) as cluster:
        stack = PulumiStack(work / "pulumi", cluster.env(), echo=False)
        stack.init(CONFIG)
        try:
            yield Deployed(cluster, stack, Deployment(cluster, stack, receiver, CONFIG, work / "report.json"))
        finally:
            stack.run("destroy", "--yes", "--skip-preview", check=False)
            receiver.stop()
