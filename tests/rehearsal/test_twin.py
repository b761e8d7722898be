"""The shortened twin: Pulumi.demo.yaml deployed by the real Pulumi CLI to the local cluster
(pods as processes) and played for three demo minutes of the Black Friday timeline, on a small
fixed catalog with a quick calibration. What it checks is that the stack runs: each pod from
the image's file tree under its CPU limit, the calibration Job and the Command reading its
result, the seed Job, the scenario's own scripts, telemetry from every service, a complete
restore. The full twin (`make twin`) is where the targets are judged."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from rehearsal.kube.twin import TwinOptions, run_twin
from rehearsal.twin.render import ROOT
from scenarios.calibration import Calibration


@pytest.fixture(scope="module")
def twin() -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bfdemo-twin-"))
    report = workdir / "report.json"
    result = run_twin(TwinOptions(ROOT / "Pulumi.demo.yaml", workdir, report,
                                  # The default lead (30 s): with 8 s, the real rollout of the pods
                                  # after the clock's stamp ended 1.7 s after minute 0.
                                  {"scenario": "blackfriday", "demoMinuteSeconds": "6",
                                   "catalogProducts": "20000", "calibrationProbe": "quick"},
                                  duration_minutes=3))
    assert json.loads(report.read_text()) == json.loads(json.dumps(result))
    return result


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_deployed_stack_runs_the_first_minutes_on_schedule(twin: dict) -> None:
    minutes = twin["minutes"]
    assert [m["minute"] for m in minutes] == [0, 1, 2]
    assert all(m["errors"] == 0 and m["requests"] > 0 for m in minutes)
    # The clock's lead let every pod be ready before minute 0: no minute is short of journeys.
    assert twin["twin"]["pods_ready_s_after_minute_0"] < 0
    # A 6-second minute holds 3 to 5 journeys: on schedule means to within one journey.
    assert all(abs(m["achieved_rpm"] - m["target_rpm"]) * 6 / 60 <= 1.0 for m in minutes)


@pytest.mark.slow
def test_every_service_exported_spans_stamped_with_the_stacks_clock(twin: dict) -> None:
    server = [m["server"] for m in twin["minutes"]]
    assert all(s["catalog_requests"] > 0 for s in server)
    assert sum(s["full_scan_spans"] for s in server) > 0  # the break dropped the indexes


@pytest.mark.slow
def test_removing_the_scenario_restored_the_database(twin: dict) -> None:
    assert twin["restore"] == {"indexes_restored": True, "invalid_indexes": []}
    assert twin["stock"]["products_unbalanced"] == 0 and twin["stock"]["orders_without_lines"] == 0
    # Every pod ran on the node; the report names what stood in for the images it cannot pull.
    assert any("OpenTelemetry Collector stood in for" in note for note in twin["twin"]["stand_ins"])
    assert any("PostgreSQL" in note and "fsync on" in note for note in twin["twin"]["stand_ins"])
    limits = twin["twin"]["cpu_limits"]
    if limits:  # where cgroups can be written: each pod under its limit
        assert {"calibration", "catalog-seed", "product-catalog", "cart", "checkout", "load-generator",
                "postgres"} <= set(limits)
        assert all("limited to 500m CPU" in limits[n] for n in ("product-catalog", "cart", "checkout"))
        assert "limited to 1 CPU" in limits["postgres"]


@pytest.mark.slow
def test_the_calibration_job_measured_and_its_result_reached_the_load_generator(twin: dict) -> None:
    calibration = Calibration(**twin["calibration"])
    assert calibration.products == 20_000 and calibration.scenario == "blackfriday"
    assert calibration.catalog_capacity_qps > 0 and calibration.lock_throughput_per_s > 0
    assert "PostgreSQL pod, CPU limit 1" in calibration.database_cpu
    [log] = Path(twin["twin"]["logs"]).glob("*_calibration-*/logs/calibration.log")
    assert "BFDEMO_CALIBRATION " in log.read_text()
    # It measured in a database of its own and dropped it: nothing of it in the demo's data.
    assert twin["twin"]["calibration_leftovers"] == {"databases": [], "orders": 0}
