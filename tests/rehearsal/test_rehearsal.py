"""The rehearsal, compressed: calibrate this machine, run the whole Black Friday timeline at
6-second demo minutes, and check the shape the presenter relies on. Exact tolerances are
`make demo`'s verdict; this asserts what must hold at any minute length on any machine."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from rehearsal.runner import RunOptions, run_demo
from scenarios.blackfriday import BLACKFRIDAY

MINUTE_SECONDS = float(os.environ.get("REHEARSAL_MINUTE_SECONDS", "6"))


@pytest.fixture(scope="module")
def report() -> dict:
    # Outside pytest's basetemp, which another pytest session on the machine would make 0700.
    workdir = Path(os.environ.get("REHEARSAL_WORKDIR") or tempfile.mkdtemp(prefix="bfdemo-rehearsal-"))
    path = workdir / "report.json"
    result = run_demo(RunOptions(BLACKFRIDAY, workdir, MINUTE_SECONDS, path))
    for check in result["targets"]["checks"]:  # the verdict make demo prints, for the log
        print(f"[{'met' if check['met'] else 'MISSED'}] {check['name']}: {check['observed']}")
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    assert path.with_suffix(".png").stat().st_size > 10_000
    return result


def _minutes(report: dict, lo: int, hi: int) -> list[dict]:
    return [m for m in report["minutes"] if lo <= m["minute"] < hi]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_failures_before_the_sale(report):
    quiet = _minutes(report, 0, 15)
    assert len(quiet) == 15
    assert sum(m["errors"] for m in quiet) == 0, [(m["minute"], m["errors"]) for m in quiet]
    assert all(m["achieved_rpm"] > 0.8 * m["target_rpm"] for m in quiet)


@pytest.mark.slow
def test_the_sale_slows_the_catalog_without_failing_it_and_the_crowd_breaks_it(report):
    """The story's order. The sale's watchers are a closed population holding the catalog's
    pool full, so its listings are slow from the sale's first seconds at any minute length and
    database speed, and none waits out the pool's timeout; the crowd from 23 is past capacity."""
    before = max(m["catalog_p95_ms"] or 0 for m in _minutes(report, 0, 15))
    sale = _minutes(report, 16, 20)
    crowd = _minutes(report, 24, 30)
    assert before < 1000 and min(m["catalog_p95_ms"] or 0 for m in sale) >= 2000, (before, sale)
    # A 6-second minute holds about 80 requests: one minute's share swings by several points,
    # so the sale is judged whole here (each minute is make demo's verdict at 10 s).
    sale_share = sum(m["errors"] for m in sale) / sum(m["requests"] for m in sale)
    crowd_share = sum(m["errors"] for m in crowd) / sum(m["requests"] for m in crowd)
    assert sale_share <= 0.05 and crowd_share >= 0.20, (sale_share, crowd_share)
    assert min(m["catalog_p95_ms"] or 0 for m in crowd) > 2000, crowd


@pytest.mark.slow
def test_checkouts_fail_before_the_catalog_does(report):
    def first(failed: str, total: str) -> int | None:
        return next((m["minute"] for m in _minutes(report, 15, 30) if m[total] and m[failed] / m[total] > 0.10), None)

    # A sale's checkout may be refused (409) in a 6-second minute of a handful of checkouts,
    # so the checkouts' first minute is bounded above; the catalog holds until the crowd.
    checkouts, listings = first("checkout_failures", "checkout_attempts"), first("catalog_failures", "catalog_listings")
    assert checkouts is not None and listings is not None and checkouts < listings, (checkouts, listings)
    assert checkouts <= 21 and listings >= 23, (checkouts, listings)


@pytest.mark.slow
def test_checkouts_fail_from_the_rush_and_the_alert_fires_in_its_window(report):
    calm = _minutes(report, 0, 20)
    rush = _minutes(report, 20, 30)
    calm_rate = sum(m["checkout_failures"] for m in calm) / max(1, sum(m["checkout_attempts"] for m in calm))
    rush_rate = sum(m["checkout_failures"] for m in rush) / max(1, sum(m["checkout_attempts"] for m in rush))
    assert calm_rate < 0.05 and rush_rate > 0.15, (calm_rate, rush_rate)
    assert report["alert"]["fired"] and 20 <= report["alert"]["first_minute"] <= 25, report["alert"]


@pytest.mark.slow
def test_everything_is_restored_and_accounted_for(report):
    assert report["restore"] == {"indexes_restored": True, "invalid_indexes": []}
    assert report["stock"]["products_unbalanced"] == 0 and report["stock"]["orders_without_lines"] == 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_dashboard_panel_showed_data_during_the_run(report):
    # A real Prometheus scraped the storefront and the generator: no panel stood empty.
    panels = report["prometheus"]["panels"]
    if "skipped" in panels:
        pytest.skip(panels["skipped"])
    assert panels["all_returned_data"] and not panels["not_scraped"], panels
    assert panels["annotations"]["Phase changes"] > 0 and panels["annotations"]["Actor actions"] > 0, panels
