"""The commands our users type, through the real Pulumi CLI and engine against a real control
plane (this machine as its node, pods as processes), in the order a user types them: a bad
scenario refused at preview, the baseline, a calibration that fails, the scenario, a replaced
seed Job, a new demo run, the restore, a `pulumi up` killed in the middle of the break, a
forgotten scenario reverted by the cluster, and `pulumi destroy` with the scenario applied.
Each step is checked where it matters: in the database, through `kubectl exec ... psql` as the
scenario's own commands reach it."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from rehearsal.cluster import pod_psql
from rehearsal.kube.cluster import CONTEXT, LocalCluster
from rehearsal.kube.procs import engine_bin_dirs, missing_binaries
from rehearsal.kube.stack import PulumiStack
from scenarios.catalogue import get_scenario

pytestmark = pytest.mark.slow

# The last run's `pulumi preview --diff` of the scenario, as a reviewer sees it.
GOLDEN = Path(os.environ.get("BFDEMO_PREVIEW_OUT", "build/preview-diff-blackfriday.txt"))

NAMESPACE = "ecommerce-demo"
DROPPED = get_scenario("blackfriday").dropped_indexes
CONFIG = {
    "kubernetes:context": CONTEXT,
    "bfdemo:image": "bfdemo-services:dev",
    "bfdemo:imagePullPolicy": "Never",
    "bfdemo:demoMinuteSeconds": "6",
    "bfdemo:catalogProducts": "5000",
    "bfdemo:calibrationProbe": "quick",
    "bfdemo:revertAfterMinutes": "600",
}


@dataclass
class Deployed:
    cluster: LocalCluster
    stack: PulumiStack

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
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    missing = missing_binaries(engine_bin_dirs())
    if missing and not os.environ.get("CI"):
        pytest.skip(f"the engine is not built ({', '.join(missing)}): make engine")
    work = tmp_path_factory.mktemp("lifecycle")
    with LocalCluster(work / "cluster") as cluster:
        stack = PulumiStack(work / "pulumi", cluster.env(), echo=False)
        stack.init(CONFIG)
        yield Deployed(cluster, stack)
        stack.run("destroy", "--yes", "--skip-preview", check=False)


def test_an_invalid_scenario_fails_preview_naming_the_key_and_the_allowed_values(deployed: Deployed) -> None:
    done = deployed.stack.run("preview", "-c", "scenario=cyber-monday", check=False)
    deployed.stack.run("config", "rm", "bfdemo:scenario")
    assert done.returncode != 0
    assert "config key 'scenario'" in done.stdout and "allowed values: blackfriday" in done.stdout


def test_the_baseline_comes_up_with_every_index(deployed: Deployed) -> None:
    deployed.stack.up()
    assert deployed.indexes() == set(DROPPED)
    assert deployed.stack.outputs()["scenario"] == "baseline"


def test_a_failing_calibration_fails_pulumi_up_with_its_reason_and_blocks_nothing(deployed: Deployed) -> None:
    # A DBA rotates the database password behind the stack's back; a new measurement is asked for.
    measured = deployed.stack.outputs()["calibration"]["measured_at"]
    secret = deployed.kube("get", "secret", "postgres-credentials", "-o", "jsonpath={.data.password}")
    deployed.psql("ALTER ROLE ecommerce_user PASSWORD 'rotated-by-a-dba'")
    try:
        done = deployed.stack.up("calibrationRun=2", check=False)
    finally:
        deployed.psql(f"ALTER ROLE ecommerce_user PASSWORD '{base64.b64decode(secret).decode()}'")
    assert done.returncode != 0
    assert "calibration-2" in done.stdout and "calibration failed" in done.stdout
    assert 'password authentication failed for user "ecommerce_user"' in done.stdout, done.stdout[-3000:]
    # The cause fixed, the previous run named again: the failed Job is deleted, not in the way.
    deployed.stack.run("config", "rm", "bfdemo:calibrationRun")
    deployed.stack.up()
    again = deployed.stack.outputs()["calibration"]
    assert again["measured_at"] > measured and " pod calibration-1-" in again["machine"]


def test_the_scenarios_preview_shows_the_commands_and_the_configuration_that_change(deployed: Deployed) -> None:
    # What a pull request's preview shows a reviewer: the break with its SQL, the clock, and the
    # services' configuration turning to the scenario; nothing deleted or replaced.
    out = deployed.stack.run("preview", "--diff", "-c", "scenario=blackfriday").stdout
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(out)  # kept beside the test run's own files, for the README and the review
    assert "scenario-break-database" in out and "scenario-demo-clock" in out
    assert "psql -X -1 -v ON_ERROR_STOP=1" in out and "-- Black Friday misconfiguration" in out
    assert "services-config" in out and "scenario-auto-revert" in out
    # The services' new values are readable: only the clock, stamped by the apply, is unknown.
    assert re.search(r'~ DEMO_MODE\s*: "off" => "blackfriday"', out), out[:3000]
    assert re.search(r"\+ DEMO_START_TIMESTAMP\s*: \[unknown\]", out)
    # Nothing deleted; only the content-named ConfigMaps are replaced (that is what rolls the pods).
    assert "to delete" not in out[out.rindex("Resources:"):]
    replaced = [line for line in out.splitlines() if "(replace)" in line]
    assert replaced and all("kubernetes:core/v1:ConfigMap" in line for line in replaced), replaced


def test_the_scenario_drops_the_indexes_and_stamps_the_clock(deployed: Deployed) -> None:
    deployed.stack.up("scenario=blackfriday")
    assert deployed.indexes() == set()
    outputs = deployed.stack.outputs()
    assert outputs["scenario"] == "blackfriday" and outputs["droppedIndexes"] == list(DROPPED)
    assert outputs["timeline"]["alert"]["minute"] == get_scenario("blackfriday").alert_event().minute


def test_a_replaced_seed_job_rebuilds_no_dropped_index(deployed: Deployed) -> None:
    seed = next(urn for urn in deployed.urns() if urn.endswith("kubernetes:batch/v1:Job::catalog-seed"))
    done = deployed.stack.run("up", "--yes", "--skip-preview", "--replace", seed)
    assert "catalog-seed created replacement" in done.stdout
    assert deployed.indexes() == set()


def test_a_new_demo_run_restarts_the_clock_and_re_arms_the_break(deployed: Deployed) -> None:
    before = deployed.stack.outputs()["demoStartTimestamp"]
    # The database restored behind Pulumi's back, as the revert Job or a DBA would.
    deployed.psql("CREATE INDEX idx_products_category ON products (category)")
    deployed.stack.up("demoRun=2")
    assert deployed.indexes() == set()
    assert deployed.stack.outputs()["demoStartTimestamp"] > before


def test_removing_the_scenario_restores_the_database(deployed: Deployed) -> None:
    deployed.stack.run("config", "rm", "bfdemo:scenario")
    deployed.stack.up()
    assert deployed.indexes() == set(DROPPED)
    assert deployed.stack.outputs()["scenario"] == "baseline"


def test_a_pulumi_up_killed_in_the_middle_of_the_break_converges_on_the_next(deployed: Deployed) -> None:
    waiting_break = "wait_event_type = 'Lock' AND query LIKE 'DROP INDEX%'"
    plugins: list[int] = []
    with deployed.reading_products():
        up = deployed.stack.start("up", "--yes", "--skip-preview", "-c", "scenario=blackfriday")
        try:
            wait_for(lambda: deployed.sessions(waiting_break) == 1, "the break waiting for the report's lock")
            plugins += descendants(up.pid)
        finally:
            os.killpg(up.pid, signal.SIGKILL)  # pulumi itself, as a closed laptop would; its plugins live on
            up.communicate()
        # The orphaned break gives up at its lock_timeout: half of it never lands.
        wait_for(lambda: deployed.sessions(waiting_break) == 0, "the break's lock_timeout", timeout=30)
        assert deployed.indexes() == set(DROPPED)
    try:
        locked = deployed.stack.up(check=False)
        assert locked.returncode != 0 and "pulumi cancel" in locked.stdout
        deployed.stack.run("cancel", "--yes")
        deployed.stack.up()  # the same command again: the scenario's config was saved before the kill
        assert deployed.indexes() == set()
        assert deployed.stack.outputs()["scenario"] == "blackfriday"
        assert deployed.stack.run("preview", "--expect-no-changes", check=False).returncode == 0
    finally:
        for pid in plugins:  # what a reboot of the laptop would end
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_the_cluster_reverts_a_forgotten_scenario_while_no_pulumi_runs(deployed: Deployed) -> None:
    # Minutes of a second, no lead, no grace: the revert Job acts 30 s after the clock's stamp.
    short = ("demoRun=forgotten", "demoMinuteSeconds=1", "demoLeadSeconds=0", "revertAfterMinutes=0")
    deployed.stack.up(*short)
    assert deployed.indexes() == set()
    wait_for(lambda: deployed.indexes() == set(DROPPED), "the revert Job's restore", timeout=120)
    log = deployed.kube("logs", "-l", "app.kubernetes.io/name=scenario-auto-revert", "--tail", "20")
    assert "scenario reverted: the indexes are back" in log
    deployed.stack.run("config", "rm", "bfdemo:demoLeadSeconds")
    for key in ("bfdemo:demoMinuteSeconds", "bfdemo:revertAfterMinutes"):
        deployed.stack.run("config", "set", key, CONFIG[key])


def test_destroy_with_the_scenario_applied_restores_before_it_deletes(deployed: Deployed) -> None:
    deployed.stack.up("scenario=blackfriday", "demoRun=last")  # re-armed: the revert Job restored it
    assert deployed.indexes() == set()
    out = deployed.stack.run("destroy", "--yes", "--skip-preview").stdout
    lines = out.splitlines()
    restored = next(i for i, line in enumerate(lines) if "scenario-break-database deleted" in line)
    database_gone = next(i for i, line in enumerate(lines) if "postgres-statefulset deleting" in line)
    assert restored < database_gone, out[-3000:]
