"""A forgotten scenario reverts itself: the rendered Job waits for the end of the timeline plus
revertAfterMinutes, then restores; its script is run here against a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from rehearsal.localpg import POSTGRES_BIN_PATH, LocalPostgres
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.scripts import sql_text
from tests.infra.conftest import CLOCK, Run, run_program
from tests.infra.k8s_objects import config_map_data
from tests.infra.test_network import Cluster

JOB = "kubernetes:batch/v1:Job"


def _revert(run: Run) -> dict:
    [job] = [r.manifest() for r in run.of_type(JOB) if r.name == "auto-revert"]
    return job


def test_only_a_scenario_has_one_and_pulumi_does_not_wait_for_it(baseline: Run, blackfriday: Run) -> None:
    assert [r for r in baseline.of_type(JOB) if r.name == "auto-revert"] == []
    job = _revert(blackfriday)
    assert job["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    assert baseline.outputs["revertsAt"] is None


def test_it_reverts_an_hour_after_the_timeline_ends_and_says_when(blackfriday: Run) -> None:
    env = {e["name"]: e.get("value") for e in _revert(blackfriday)["spec"]["template"]["spec"]["containers"][0]["env"]}
    ends = CLOCK + BLACKFRIDAY.duration_minutes * 60  # demoMinuteSeconds defaults to 60
    assert env["REVERT_AT"] == str(ends + 60 * 60)
    assert blackfriday.outputs["revertsAt"] == "2025-11-28T15:30:00Z"
    assert env["PGHOST"] == "postgres" and "PGPASSWORD" in env  # by secretKeyRef, not a value
    assert env["PGPASSWORD"] is None


def test_the_delay_is_configurable() -> None:
    run = run_program({"scenario": "blackfriday", "revertAfterMinutes": "0", "demoMinuteSeconds": "10"})
    assert run.outputs["revertsAt"] == "2025-11-28T14:05:00Z"


def test_the_network_lets_it_reach_postgres(blackfriday: Run) -> None:
    cluster = Cluster(blackfriday)
    assert cluster.allows("auto-revert", "postgres", 5432) and cluster.isolated("auto-revert")


@pytest.mark.usefixtures("restore_indexes")
@pytest.mark.parametrize("delay", [-1, 2])
def test_its_script_restores_the_database(blackfriday: Run, pg: LocalPostgres, tmp_path: Path, delay: int) -> None:
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        conn.execute(sql_text(BLACKFRIDAY.break_sql))
    container = _revert(blackfriday)["spec"]["template"]["spec"]["containers"][0]
    sql = tmp_path / "restore.sql"
    [cm] = [r for r in blackfriday.of_type("kubernetes:core/v1:ConfigMap") if r.name == "auto-revert-sql"]
    sql.write_text(cm.inputs["data"]["restore.sql"])
    # The mounted path and the Service's address are the pod's; here they are local.
    script = container["command"][2].replace("/sql/restore.sql", str(sql))
    env = {"PATH": f"{POSTGRES_BIN_PATH}:/usr/bin:/bin", "REVERT_AT": str(int(time.time()) + delay),
           "PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGUSER": "postgres", "PGDATABASE": pg.dbname}
    started = time.monotonic()
    result = subprocess.run([*container["command"][:2], script], env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "scenario reverted" in result.stdout
    assert time.monotonic() - started >= (delay if delay > 0 else 0)
    indexes = set(pg.psql("SELECT indexname FROM pg_indexes WHERE tablename = 'products'").split())
    assert set(BLACKFRIDAY.dropped_indexes) <= indexes


def test_the_load_generators_status_learns_when(baseline: Run, blackfriday: Run) -> None:
    assert "DEMO_REVERT_AT" not in config_map_data(baseline, "loadgen-config")
    reverts_at = CLOCK + BLACKFRIDAY.duration_minutes * 60 + 60 * 60
    assert config_map_data(blackfriday, "loadgen-config")["DEMO_REVERT_AT"] == str(reverts_at)
