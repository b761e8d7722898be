"""The end-to-end workflow's judge step (python -m rehearsal.cluster judge), run as the workflow
runs it, against a real PostgreSQL through the twin's kubectl: the aftermath it reads, the
targets it checks again, the exit code it gives the workflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from rehearsal.localpg import LocalPostgres
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.scripts import sql_text


def _followed(path: Path) -> Path:
    """A report as `follow` leaves it: every minute on its marks, the restore still pending."""
    minutes = [{"minute": m, "target_rpm": BLACKFRIDAY.traffic.target_rpm(m),
                "achieved_rpm": BLACKFRIDAY.traffic.target_rpm(m), "requests": 60,
                "errors": 20 if m >= 20 else 4 if m >= 16 else 0, "catalog_p95_ms": 6000.0 if m >= 15 else 250.0,
                "checkout_attempts": 10, "checkout_failures": 4 if m >= 20 else 0,
                "catalog_listings": 40, "catalog_failures": 16 if m >= 25 else 0} for m in range(30)]
    path.write_text(json.dumps({"scenario": "blackfriday", "minutes": minutes,
                                "alert": {"fired": True, "first_minute": 22},
                                "restore": {"indexes_restored": None, "invalid_indexes": [], "pending": "judge"}}))
    return path


def _judge(report: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rehearsal.cluster", "judge", "--report", str(report),
                           "--kubectl", "kubectl --context kind-bfdemo -n ecommerce-demo"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_restored_database_and_a_run_on_its_marks_pass(tmp_path: Path, kubectl_env: dict[str, str]) -> None:
    report = _followed(tmp_path / "report.json")
    done = _judge(report, kubectl_env)
    assert done.returncode == 0, done.stdout + done.stderr
    judged = json.loads(report.read_text())
    assert judged["restore"] == {"indexes_restored": True, "invalid_indexes": []}
    assert judged["stock"]["products_unbalanced"] == 0 and judged["targets"]["met"] is True
    assert "[met] restored, stock balanced" in done.stdout


def test_indexes_still_missing_fail_the_workflow(tmp_path: Path, kubectl_env: dict[str, str], pg: LocalPostgres,
                                                restore_indexes: None) -> None:
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        conn.execute(sql_text(BLACKFRIDAY.break_sql))  # type: ignore[arg-type]
    report = _followed(tmp_path / "report.json")
    done = _judge(report, kubectl_env)
    assert done.returncode == 1
    assert json.loads(report.read_text())["restore"]["indexes_restored"] is False
