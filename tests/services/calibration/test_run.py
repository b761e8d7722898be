"""The calibration program the cluster's Job runs (and `bfdemo calibrate`), on a real server
beside a demo catalog it must not touch."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest

from scenarios.blackfriday import BLACKFRIDAY
from scenarios.calibration import RESULT_PREFIX, Calibration
from services.calibration.run import QUICK, Plan, calibrate


def _demo_state(conninfo: str) -> tuple[object, ...]:
    with psycopg.connect(conninfo) as conn:
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products' "
                               "ORDER BY 1").fetchall()
        stock = conn.execute("SELECT sum(stock_quantity), count(*) FROM products").fetchone()
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()
    return tuple(indexes), stock, orders


def _databases(pg) -> list[str]:
    with psycopg.connect(pg.conninfo()) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database ORDER BY 1").fetchall()]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_it_measures_the_scenario_and_leaves_the_demo_database_as_it_was(pg) -> None:
    before, databases = _demo_state(pg.conninfo()), _databases(pg)
    result = calibrate(pg.conninfo(), Plan(BLACKFRIDAY, products=20_000, probe=QUICK),
                       machine="test", database_cpu="unlimited")
    assert result.products == 20_000 and result.scenario == "blackfriday"
    assert result.catalog_capacity_qps > 0 and result.lock_throughput_per_s > 0
    assert Calibration.from_json(result.to_json(), "the result") == result
    assert _demo_state(pg.conninfo()) == before  # its indexes, stock and orders
    assert _databases(pg) == databases  # its own database is gone


def test_a_calibration_that_cannot_run_says_why_and_what_to_do(pg) -> None:
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": "1", "DB_NAME": "ecommerce", "PATH": "/usr/bin:/bin",
           "DB_REACHABLE_WITHIN_S": "3"}  # it retries that long before it gives up
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "services", "calibrate", "--scenario", "blackfriday"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert time.monotonic() - started >= 3
    assert done.returncode == 1
    assert RESULT_PREFIX not in done.stdout
    assert "calibration failed: " in done.stderr and "measure again" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_scenario_is_refused_with_the_allowed_values() -> None:
    done = subprocess.run([sys.executable, "-m", "services", "calibrate", "--scenario", "cybermonday"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "allowed values: blackfriday" in done.stderr
    assert "Traceback" not in done.stderr

