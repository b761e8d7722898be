"""The scenario Commands' rendered scripts, run unchanged against a real PostgreSQL through the
twin's kubectl: the break drops the indexes as one transaction (a break that fails half-way
changes nothing), the delete restores them, and a database that is gone is nothing to restore."""

from __future__ import annotations

import subprocess

import pytest

from rehearsal.localpg import LocalPostgres
from tests.infra.conftest import run_program

DROPPED = {"idx_products_category", "idx_products_stock_quantity"}


@pytest.fixture(scope="module")
def scripts() -> dict[str, str]:
    [cmd] = [r for r in run_program({"scenario": "blackfriday"}).of_type("pulumi-python:dynamic/command:Command")
             if r.name.endswith("break-database")]
    return {"create": cmd.inputs["create"], "delete": cmd.inputs["delete"]}


def _sh(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # local.Command runs its scripts with /bin/sh -c.
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def _indexes(pg: LocalPostgres) -> set[str]:
    return set(pg.psql("SELECT indexname FROM pg_indexes WHERE tablename = 'products'").split())


@pytest.mark.usefixtures("restore_indexes")
def test_break_then_restore_through_the_rendered_scripts(scripts: dict[str, str], kubectl_env: dict[str, str],
                                                         pg: LocalPostgres) -> None:
    assert _indexes(pg) >= DROPPED
    broke = _sh(scripts["create"], kubectl_env)
    assert broke.returncode == 0, broke.stderr
    assert not DROPPED & _indexes(pg)
    restored = _sh(scripts["delete"], kubectl_env)
    assert restored.returncode == 0, restored.stderr
    assert _indexes(pg) >= DROPPED
    assert pg.psql("SELECT count(*) FROM pg_index WHERE NOT indisvalid").strip() == "0"


@pytest.mark.usefixtures("restore_indexes")
def test_a_break_failing_half_way_changes_nothing(scripts: dict[str, str], kubectl_env: dict[str, str],
                                                  pg: LocalPostgres) -> None:
    failing = scripts["create"].replace("DROP INDEX IF EXISTS idx_products_stock_quantity;",
                                        "DROP INDEX IF EXISTS idx_products_stock_quantity;\nSELECT 1 / 0;")
    assert failing != scripts["create"]
    result = _sh(failing, kubectl_env)
    assert result.returncode != 0 and "division by zero" in result.stderr
    assert _indexes(pg) >= DROPPED


def test_the_restore_of_a_database_already_gone_is_a_no_op(scripts: dict[str, str],
                                                           kubectl_env: dict[str, str]) -> None:
    result = _sh(scripts["delete"], {**kubectl_env, "BFDEMO_TWIN_STATEFULSETS": ""})
    assert result.returncode == 0 and "nothing to restore" in result.stdout


def test_a_call_the_twin_does_not_know_fails_loudly(kubectl_env: dict[str, str]) -> None:
    result = _sh("kubectl -n x rollout restart deploy/checkout", kubectl_env)
    assert result.returncode == 2 and "not a call the twin understands" in result.stderr
