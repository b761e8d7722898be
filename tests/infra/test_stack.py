"""The four cases of the scenario flag: baseline, blackfriday, an invalid value, and the
baseline again after the scenario."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra.components.scenario import HEREDOC
from infra.config import ConfigError
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.catalogue import SCENARIOS
from scenarios.scripts import sql_text
from services.ports import PORTS
from tests.infra.conftest import CLOCK, Run, run_program
from tests.infra.k8s_objects import config_map_data, container

COMMAND = "pulumi-python:dynamic/command:Command"
BREAK = "scenario-break-database"
CLOCK_COMMAND = "scenario-demo-clock"


def test_baseline_has_the_whole_stack_and_no_scenario(baseline: Run) -> None:
    deployments = {r.inputs["metadata"]["name"]
                   for r in baseline.of_type("kubernetes:apps/v1:Deployment")}
    assert deployments == {*PORTS, "otel-collector"} - {"load-generator"}
    # The load generator is a StatefulSet so that its replicas get distinct indexes.
    assert {r.inputs["metadata"]["name"]
            for r in baseline.of_type("kubernetes:apps/v1:StatefulSet")} == {"postgres",
                                                                          "load-generator"}
    assert {j.name for j in baseline.of_type("kubernetes:batch/v1:Job")} == {"calibration", "catalog-seed"}
    assert len(baseline.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")) >= 2  # see test_network
    assert [c.name for c in baseline.of_type(COMMAND)] == ["calibration-result"]
    assert baseline.outputs["scenario"] == "baseline"
    assert baseline.outputs["demoStartTimestamp"] is None
    assert baseline.outputs["timeline"] is None
    assert baseline.outputs["droppedIndexes"] == []
    assert baseline.outputs["namespace"] == "ecommerce-demo"


def test_baseline_config_map_holds_the_baseline_values(baseline: Run) -> None:
    data = config_map_data(baseline, "services-config")
    assert {k: data[k] for k in ("DEMO_MODE", "DB_MAX_CONNECTIONS", "DB_CONNECTION_TIMEOUT")} == \
        BLACKFRIDAY.config_values(scenario_active=False)
    assert "DEMO_START_TIMESTAMP" not in data
    assert data["DEMO_MINUTE_SECONDS"] == "60"
    assert data["DB_HOST"] == "postgres" and data["DB_PORT"] == "5432"
    assert data["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def test_blackfriday_config_map_holds_the_scenario_values_and_the_stamp(blackfriday: Run) -> None:
    data = config_map_data(blackfriday, "services-config")
    for key, value in BLACKFRIDAY.config_values(scenario_active=True).items():
        assert data[key] == value
    assert data["DEMO_START_TIMESTAMP"] == str(CLOCK)


def test_every_service_reads_the_services_config_map(blackfriday: Run) -> None:
    [cm] = [r for r in blackfriday.of_type("kubernetes:core/v1:ConfigMap")
            if r.name == "services-config"]
    # Auto-named (no fixed name), so a data change replaces it and rolls the Deployments.
    assert "name" not in cm.inputs["metadata"]
    for service in PORTS:
        refs = [e["configMapRef"]["name"] for e in container(blackfriday, service)["envFrom"]]
        assert cm.state["metadata"]["name"] in refs, service


def test_the_scenario_changes_the_services_config_and_nothing_else(baseline: Run,
                                                                   blackfriday: Run) -> None:
    """Only the services ConfigMap (and the load generator's own, which learns when a forgotten
    scenario reverts itself) differ among the baseline's objects; since every service reads the
    first (above), the four services roll and PostgreSQL and the collector do not."""
    def objects(run: Run) -> dict[str, dict]:
        return {r.urn: r.inputs for r in run.k8s_objects()}

    before, after = objects(baseline), objects(blackfriday)
    changed = {urn.rsplit("::", 1)[1] for urn in before if before[urn] != after.get(urn)}
    assert changed == {"services-config", "loadgen-config"}


def test_break_command_runs_break_sql_and_deletes_with_restore_sql(blackfriday: Run) -> None:
    cmd = blackfriday.named(COMMAND, BREAK)
    create, delete = cmd.inputs["create"], cmd.inputs["delete"]
    target = "kubectl -n ecommerce-demo exec -i statefulset/postgres -c postgres -- psql"
    assert target in create and target in delete
    assert f"<<'{HEREDOC}'\n{sql_text(BLACKFRIDAY.break_sql).rstrip()}\n{HEREDOC}" in create
    assert f"<<'{HEREDOC}'\n{sql_text(BLACKFRIDAY.restore_sql).rstrip()}\n{HEREDOC}" in delete
    # The break is one transaction; the restore (CREATE INDEX CONCURRENTLY) cannot be.
    assert "psql -X -1 -v ON_ERROR_STOP=1" in create and " -1 " not in delete
    # Restore first on replacement; never break, then restore.
    assert cmd.delete_before_replace is True


def test_break_command_is_replaced_when_the_sql_changes(blackfriday: Run, monkeypatch) -> None:
    # Another file of the package stands in for an edited break SQL.
    changed = replace(BLACKFRIDAY, break_sql=BLACKFRIDAY.restore_sql)
    monkeypatch.setitem(SCENARIOS, "blackfriday", changed)
    after = run_program({"scenario": "blackfriday"}).named(COMMAND, BREAK)
    assert after.inputs["triggers"] != blackfriday.named(COMMAND, BREAK).inputs["triggers"]
    assert sql_text(BLACKFRIDAY.restore_sql).rstrip() in after.inputs["create"]


def test_break_waits_for_the_seeded_database_and_the_clock_for_the_break(blackfriday: Run) -> None:
    cmd = blackfriday.named(COMMAND, BREAK)
    job = blackfriday.named("kubernetes:batch/v1:Job", "catalog-seed")
    assert job.urn in cmd.dependencies
    clock = blackfriday.named(COMMAND, CLOCK_COMMAND)
    assert cmd.urn in clock.dependencies
    assert clock.inputs["create"] == "echo $(( $(date -u +%s) + 30 ))"  # demoLeadSeconds
    assert clock.inputs["triggers"] == ["blackfriday", "1"]


def test_blackfriday_outputs(blackfriday: Run) -> None:
    out = blackfriday.outputs
    assert out["scenario"] == "blackfriday"
    assert out["demoStartTimestamp"] == CLOCK
    assert out["droppedIndexes"] == list(BLACKFRIDAY.dropped_indexes)
    assert out["namespace"] == "ecommerce-demo"
    phases = out["timeline"]["phases"]
    assert [p["name"] for p in phases] == [p.name for p in BLACKFRIDAY.phases]
    assert phases[0]["startUtc"] == "2025-11-28T14:00:00Z"
    assert phases[2]["startUtc"] == "2025-11-28T14:15:00Z"
    alert = out["timeline"]["alert"]
    assert alert["minute"] == BLACKFRIDAY.alert_event().minute
    assert alert["utc"] == "2025-11-28T14:22:00Z"
    assert "/admin/demo-status" in out["watch"]["demoStatus"]
    assert "otel-collector" in out["watch"]["collector"]


def test_demo_minute_seconds_flows_to_config_and_timeline() -> None:
    run = run_program({"scenario": "blackfriday", "demoMinuteSeconds": "6"})
    assert config_map_data(run, "services-config")["DEMO_MINUTE_SECONDS"] == "6"
    assert run.outputs["timeline"]["alert"]["utc"] == "2025-11-28T14:02:12Z"


def test_a_new_demo_run_restarts_the_clock_and_re_arms_the_break(blackfriday: Run) -> None:
    run = run_program({"scenario": "blackfriday", "demoRun": "2"})
    assert run.named(COMMAND, CLOCK_COMMAND).inputs["triggers"] == ["blackfriday", "2"]
    # The break's triggers change, so the engine replaces it: restore, then break again, since
    # the revert Job may have restored the database after the last run.
    before, after = blackfriday.named(COMMAND, BREAK).inputs, run.named(COMMAND, BREAK).inputs
    assert before["triggers"][-1] == "1" and after["triggers"][-1] == "2"
    assert {k: v for k, v in after.items() if k != "triggers"} == \
        {k: v for k, v in before.items() if k != "triggers"}


def test_another_scenario_replaces_the_break_under_the_same_name(blackfriday: Run, monkeypatch) -> None:
    # A second scenario of the catalogue: going straight from one to the other must restore the
    # first before breaking with the second, which the engine does for a replace with
    # delete_before_replace, but not for a delete of one resource beside a create of another.
    monkeypatch.setitem(SCENARIOS, "cybermonday", replace(BLACKFRIDAY, name="cybermonday"))
    other = run_program({"scenario": "cybermonday"}).named(COMMAND, BREAK)
    first = blackfriday.named(COMMAND, BREAK)
    assert other.urn == first.urn and other.delete_before_replace
    assert other.inputs["triggers"][0] == "cybermonday" and first.inputs["triggers"][0] == "blackfriday"


@pytest.mark.parametrize("value", ["black-friday", "BLACKFRIDAY", "cyber-monday"])
@pytest.mark.parametrize("preview", [True, False])
def test_invalid_scenario_fails_naming_the_key_and_the_allowed_values(value: str,
                                                                      preview: bool) -> None:
    with pytest.raises(ConfigError) as err:
        run_program({"scenario": value}, preview=preview)
    message = str(err.value)
    assert "config key 'scenario'" in message
    assert f"'{value}'" in message
    assert "allowed values: blackfriday" in message


def test_baseline_after_the_scenario_restores_everything(baseline: Run, blackfriday: Run) -> None:
    after = run_program({})
    # The break command leaves the program, so Pulumi deletes it and runs its stored delete:
    # restore.sql, from state (checked above), whatever machine runs this `up`.
    assert [c.name for c in after.of_type(COMMAND)] == ["calibration-result"]
    assert config_map_data(after, "services-config") == config_map_data(baseline,
                                                                          "services-config")
    assert after.outputs == baseline.outputs
    assert {r.urn: r.inputs for r in after.resources} == \
        {r.urn: r.inputs for r in baseline.resources}
