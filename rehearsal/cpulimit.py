"""The database's CPU limit on the laptop: the CFS quota the kubelet gives the PostgreSQL pod
for its `resources.limits.cpu` (quota = limit x 100 ms per 100 ms period), applied to the
local server's processes through the cgroup cpu controller. So the capacity calibration
measures here is the capacity of a database limited as the cluster's is. Where no cgroup can
be written (not root, no cpu controller), the server runs niced instead, and says so."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

PERIOD_US = 100_000  # the kubelet's CFS period
V1 = Path("/sys/fs/cgroup/cpu")
V2 = Path("/sys/fs/cgroup")
PULUMI_YAML = Path(__file__).resolve().parents[1] / "Pulumi.yaml"
NICENESS = 19


def database_cpu_limit() -> str:
    """`postgresCpuLimit` as the stack declares it (Pulumi.yaml), e.g. "1" or "500m"."""
    return str(yaml.safe_load(PULUMI_YAML.read_text())["config"]["postgresCpuLimit"]["default"])


def cpus(limit: str) -> float:
    return float(limit[:-1]) / 1000 if limit.endswith("m") else float(limit)


@dataclass(frozen=True)
class CpuLimit:
    limit: str          # as in resources.limits.cpu
    procs: Path | None  # the cgroup's process list, when one is used
    why_not: str = "no writable cgroup cpu controller here"  # when none is

    @property
    def quota_us(self) -> int:
        return round(cpus(self.limit) * PERIOD_US)

    def summary(self) -> str:
        """What the capacity depends on: the limit, and whether it is enforced."""
        return f"{self.limit} CPU, as its pod" if self.procs is not None else "no CPU limit"

    def describe(self) -> str:
        if self.procs is None:
            return f"{self.summary()}: {self.why_not} (niced {NICENESS} instead of the pod's {self.limit} CPU)"
        version = "v1" if self.procs.is_relative_to(V1) else "v2"
        return (f"limited to {self.summary()}: CFS quota {self.quota_us} us per "
                f"{PERIOD_US} us (cgroup {version} {self.procs.parent})")

    def confine(self, pid: int) -> None:
        """Move `pid` and all its descendants into the cgroup; what they fork later stays in it.
        The group is made again if a release removed it (a database restarted after a stop)."""
        if self.procs is None:
            return
        if not self.procs.parent.exists():
            _group(self.procs.parent, self.quota_us)
        root = psutil.Process(pid)
        for proc in (root, *root.children(recursive=True)):
            with contextlib.suppress(ProcessLookupError):
                self.procs.write_text(str(proc.pid))

    def release(self) -> None:
        """Remove the cgroup once its processes have ended; the kernel refuses while any remain."""
        if self.procs is not None:
            with contextlib.suppress(OSError):
                self.procs.parent.rmdir()


def database_cpu(pgdata: Path) -> CpuLimit:
    """The stack's PostgreSQL CPU limit for the laptop rehearsal, in a cgroup of this data
    directory's own (two rehearsals on one machine must not share one quota): the pod's CFS
    quota wherever the machine lets this user set one, as the twin does. DEMO_DB_CPU_QUOTA=0
    runs it niced instead (it was opt-in while the scenario's open offers depended on the
    database running as fast as calibrated, which under the quota it mostly did not)."""
    if os.environ.get("DEMO_DB_CPU_QUOTA", "") in ("0", "false"):
        return CpuLimit(database_cpu_limit(), None, "DEMO_DB_CPU_QUOTA=0 asked to run it niced")
    name = "bfdemo-postgres-" + hashlib.sha1(str(pgdata.resolve()).encode()).hexdigest()[:8]
    return cpu_limit(name, database_cpu_limit())


def _writable(path: Path) -> bool:
    return path.exists() and os.access(path, os.W_OK)


def cpu_limit(name: str, limit: str) -> CpuLimit:
    """A cgroup named `name` holding `limit` CPUs (v1, else v2), or none where neither is writable."""
    quota = round(cpus(limit) * PERIOD_US)
    if _writable(V1 / "cpu.cfs_quota_us"):
        return CpuLimit(limit, _group(V1 / name, quota) / "cgroup.procs")
    if _writable(V2 / "cgroup.subtree_control") and "cpu" in (V2 / "cgroup.controllers").read_text().split():
        (V2 / "cgroup.subtree_control").write_text("+cpu")
        return CpuLimit(limit, _group(V2 / name, quota) / "cgroup.procs")
    return CpuLimit(limit, None)


def _group(group: Path, quota_us: int) -> Path:
    group.mkdir(exist_ok=True)
    if group.is_relative_to(V1):
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(quota_us))
    else:
        (group / "cpu.max").write_text(f"{quota_us} {PERIOD_US}")
    return group


def release_stale(prefix: str) -> int:
    """Remove the empty groups named `prefix`* that a killed run left (the kernel refuses a group
    that still holds a process, so a live one stays); how many went."""
    removed = 0
    for root in (V1, V2):
        for group in root.glob(f"{prefix}*") if root.exists() else ():
            with contextlib.suppress(OSError):
                group.rmdir()
                removed += 1
    return removed
