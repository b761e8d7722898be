"""The commands our users type, through the real Pulumi CLI and engine against a real control
plane (this machine as its node, pods as processes), in the order a user types them: a bad
scenario refused at preview, the baseline, a calibration that fails, the scenario and its
first minutes played as `make twin` plays them, a replaced seed Job, a new demo run, the
restore, a `pulumi up` killed in the middle of the break, a forgotten scenario reverted by the
cluster, and `pulumi destroy` with the scenario applied (fixtures: conftest.py)."""

from __future__ import annotations

import base64
import os
import re
import signal
from contextlib import suppress
from pathlib import Path

import pytest

from scenarios.calibration import Calibration
from scenarios.catalogue import get_scenario
from tests.rehearsal.kube.conftest import CONFIG, DROPPED, GOLDEN, STACK_FILE, Deployed, descendants, wait_for

pytestmark = pytest.mark.slow


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


def test_the_scenario_plays_its_first_minutes_on_schedule(deployed: Deployed) -> None:
    # What `make twin` follows, for three 6-second minutes: every service's telemetry arrives
    # through the collector's stand-in, stamped with the stack's clock.
    report = deployed.twin.play("blackfriday", 3, STACK_FILE)
    minutes = report["minutes"]
    assert [m["minute"] for m in minutes] == [0, 1, 2]
    assert all(m["errors"] == 0 and m["requests"] > 0 for m in minutes)
    # The clock's lead let every pod be ready before minute 0: no minute is short of journeys.
    assert report["twin"]["pods_ready_s_after_minute_0"] < 0
    # A 6-second minute holds 3 to 5 journeys: on schedule means to within one journey.
    assert all(abs(m["achieved_rpm"] - m["target_rpm"]) * 6 / 60 <= 1.0 for m in minutes), minutes
    server = [m["server"] for m in minutes]
    assert all(s["catalog_requests"] > 0 for s in server)
    assert sum(s["full_scan_spans"] for s in server) > 0  # the break dropped the indexes
    # A real Prometheus scraped every storefront pod through its Service and evaluated the rules.
    assert report["prometheus"]["targets_up"] == report["prometheus"]["targets"] == 4, report["prometheus"]


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


def test_the_restore_leaves_the_database_whole_and_the_node_ran_every_pod(deployed: Deployed) -> None:
    report = deployed.twin.judge()  # as `make twin` judges it after the restore
    assert report["restore"] == {"indexes_restored": True, "invalid_indexes": []}
    assert report["stock"]["products_unbalanced"] == 0 and report["stock"]["orders_without_lines"] == 0
    # The report names what stood in for the images the node cannot pull.
    assert any("OpenTelemetry Collector stood in for" in note for note in report["twin"]["stand_ins"])
    assert any("PostgreSQL" in note and "fsync on" in note for note in report["twin"]["stand_ins"])
    limits = report["twin"]["cpu_limits"]
    if limits:  # where cgroups can be written: each pod under its limit
        assert {"calibration", "catalog-seed", "product-catalog", "cart", "checkout", "load-generator",
                "postgres"} <= set(limits)
        assert all("limited to 500m CPU" in limits[n] for n in ("product-catalog", "cart", "checkout"))
        assert "limited to 1 CPU" in limits["postgres"]
    # The calibration Job measured, in a database of its own that it dropped.
    calibration = Calibration(**report["calibration"])
    assert calibration.products == 5000 and calibration.scenario == "blackfriday"
    assert calibration.catalog_capacity_qps > 0 and calibration.lock_throughput_per_s > 0
    assert "PostgreSQL pod, CPU limit 1" in calibration.database_cpu
    logs = Path(report["twin"]["logs"]).glob("*_calibration-*/logs/calibration.log")
    assert any("BFDEMO_CALIBRATION " in log.read_text() for log in logs)
    assert report["twin"]["calibration_leftovers"] == {"databases": [], "orders": 0}


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
    # Its last line comes just after the last index is built: read the log until it is there.
    wait_for(lambda: "scenario reverted: the indexes are back" in deployed.kube(
        "logs", "-l", "app.kubernetes.io/name=scenario-auto-revert", "--tail", "20"), "the revert Job's last line", 30)
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
