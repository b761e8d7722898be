"""Run the break and restore scripts from state against a fake kubectl: what reaches psql's
stdin is exactly the SQL file, and a restore with the database gone succeeds quietly."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from infra.components.scenario import ScenarioArgs, sql_script
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.scripts import sql_text
from tests.infra.conftest import Run

FAKE_KUBECTL = """#!/bin/sh
echo "$*" >> "$LOG"
case "$*" in
  *" get "*) [ -n "$STS_EXISTS" ] && echo "statefulset.apps/postgres"; exit "${GET_RC:-0}" ;;
  *" exec "*) cat > "$STDIN_FILE"; exit "${EXEC_RC:-0}" ;;
esac
"""


@pytest.fixture
def fake_kubectl(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "LOG": str(tmp_path / "log"),
            "STDIN_FILE": str(tmp_path / "stdin"), "STS_EXISTS": "1"}


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # local.Command runs its scripts with /bin/sh -c.
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True,
                          timeout=30, check=False)


def _script(run: Run, field: str) -> str:
    [cmd] = [r for r in run.of_type("pulumi-python:dynamic/command:Command") if r.name.endswith("break-database")]
    return cmd.inputs[field]


def test_create_pipes_break_sql_into_psql(blackfriday: Run, fake_kubectl: dict[str, str]) -> None:
    result = _run(_script(blackfriday, "create"), fake_kubectl)
    assert result.returncode == 0, result.stderr
    sent = Path(fake_kubectl["STDIN_FILE"]).read_text()
    assert sent.strip() == sql_text(BLACKFRIDAY.break_sql).strip()
    log = Path(fake_kubectl["LOG"]).read_text()
    assert "-n ecommerce-demo exec -i statefulset/postgres -c postgres -- psql" in log


def test_delete_pipes_restore_sql_into_psql(blackfriday: Run,
                                            fake_kubectl: dict[str, str]) -> None:
    result = _run(_script(blackfriday, "delete"), fake_kubectl)
    assert result.returncode == 0, result.stderr
    sent = Path(fake_kubectl["STDIN_FILE"]).read_text()
    # $$ and quotes of the DO block arrive untouched: the heredoc is quoted.
    assert sent.strip() == sql_text(BLACKFRIDAY.restore_sql).strip()


def test_delete_with_the_database_gone_succeeds_without_exec(
        blackfriday: Run, fake_kubectl: dict[str, str]) -> None:
    env = {**fake_kubectl, "STS_EXISTS": ""}
    result = _run(_script(blackfriday, "delete"), env)
    assert result.returncode == 0, result.stderr
    assert "nothing to restore" in result.stdout
    assert " exec " not in Path(env["LOG"]).read_text()


def test_delete_fails_when_the_cluster_cannot_be_asked(blackfriday: Run,
                                                       fake_kubectl: dict[str, str]) -> None:
    # An unreachable cluster must fail the delete (Pulumi keeps it and retries), not skip it.
    result = _run(_script(blackfriday, "delete"), {**fake_kubectl, "GET_RC": "1"})
    assert result.returncode != 0


def test_a_failing_psql_fails_the_command(blackfriday: Run, fake_kubectl: dict[str, str]) -> None:
    result = _run(_script(blackfriday, "create"), {**fake_kubectl, "EXEC_RC": "3"})
    assert result.returncode == 3


def test_sql_holding_the_heredoc_delimiter_is_refused() -> None:
    args = ScenarioArgs(BLACKFRIDAY, "", "", "ns", "postgres", "postgres", "u", "d", "", "1")
    with pytest.raises(ValueError, match="heredoc"):
        sql_script(args, "SELECT 1;\nBFDEMO_SQL\nDROP TABLE products;", missing_ok=False, one_transaction=True)
