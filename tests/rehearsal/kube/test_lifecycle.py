"""The commands our users type, through the real Pulumi CLI and engine against a real control
plane (this machine as its node, pods as processes), in the order a user types them: a bad
scenario refused at preview, the baseline, the scenario, a new demo run, the restore, and
`pulumi destroy` with the scenario still applied. Each step is checked where it matters: in
the database, through `kubectl exec ... psql` as the scenario's own commands reach it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
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

    def psql(self, sql: str) -> str:
        return pod_psql(f"kubectl --context {CONTEXT} -n {NAMESPACE}", sql, self.cluster.env())

    def indexes(self) -> set[str]:
        names = ",".join(f"'{name}'" for name in DROPPED)
        return set(self.psql(f"SELECT indexname FROM pg_indexes WHERE indexname IN ({names})").split())


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


def test_destroy_with_the_scenario_applied_restores_before_it_deletes(deployed: Deployed) -> None:
    deployed.stack.up("scenario=blackfriday")
    assert deployed.indexes() == set()
    out = deployed.stack.run("destroy", "--yes", "--skip-preview").stdout
    lines = out.splitlines()
    restored = next(i for i, line in enumerate(lines) if "scenario-break-database deleted" in line)
    database_gone = next(i for i, line in enumerate(lines) if "postgres-statefulset deleting" in line)
    assert restored < database_gone, out[-3000:]
