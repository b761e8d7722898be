"""The in-cluster calibration as rendered: a Job measured once, a Command that reads its result
into state (its script run here against a kubectl that serves a log), and where the result goes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.config import ConfigError
from rehearsal.twin.render import MOCK_CALIBRATION
from scenarios.calibration import RESULT_PREFIX, Calibration
from tests.infra.conftest import Run, run_program
from tests.infra.k8s_objects import config_map_data

JOB = "kubernetes:batch/v1:Job"
COMMAND = "pulumi-python:dynamic/command:Command"
MEASURED = Calibration(2_230_000, 9.4, 0.643, "2026-12-01T10:00:00+00:00", "node kind", "PostgreSQL pod", "blackfriday")


def _job(run: Run) -> dict:
    return run.named(JOB, "calibration").manifest()


def test_the_job_measures_the_scenario_in_the_image_and_is_fixed_once_run(baseline: Run) -> None:
    job = baseline.named(JOB, "calibration")
    body = job.manifest()
    assert body["metadata"]["name"] == "calibration-1"
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "services", "calibrate", "--scenario", "blackfriday"]
    assert container["image"] == "bfdemo-services:dev"
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["DB_PASSWORD"]["valueFrom"] and "value" not in env["DB_PASSWORD"]
    assert env["DATABASE_CPU"]["value"].startswith("PostgreSQL pod, CPU limit 1 ")
    assert body["spec"]["backoffLimit"] == 0
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"  # its failure, in the pod status
    assert body["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
    # A rebuilt image or another scenario must not measure again: only calibrationRun does.
    assert job.ignore_changes == ["spec"]
    # A new run that fails leaves no older Job to collide with when the old name comes back.
    assert job.delete_before_replace
    reader = baseline.named(COMMAND, "calibration-result")
    # Read again for every Job object created (its uid; unknown under mocks), not only per name.
    assert reader.inputs["triggers"] == ["calibration-1", None] and job.urn in reader.dependencies


def test_a_new_run_name_measures_again_and_nothing_else_does(baseline: Run) -> None:
    again = run_program({"calibrationRun": "2"})
    assert _job(again)["metadata"]["name"] == "calibration-2"
    assert again.named(COMMAND, "calibration-result").inputs["triggers"][0] == "calibration-2"
    rebuilt = run_program({"image": "bfdemo-services:abc123", "scenario": "blackfriday"})
    assert _job(rebuilt)["metadata"]["name"] == "calibration-1"  # its spec differs but is ignored
    assert rebuilt.named(COMMAND, "calibration-result").inputs == baseline.named(COMMAND, "calibration-result").inputs


def test_the_result_configures_the_load_generator_the_seed_and_the_stack_output(blackfriday: Run) -> None:
    assert Calibration.from_json(config_map_data(blackfriday, "loadgen-config")["CALIBRATION_JSON"], "cm") \
        == MOCK_CALIBRATION
    seed = blackfriday.named(JOB, "catalog-seed").manifest()["spec"]["template"]["spec"]["containers"][0]
    assert seed["command"][-2:] == ["--products", str(MOCK_CALIBRATION.products)] and "--resize" in seed["command"]
    assert blackfriday.outputs["calibration"] == MOCK_CALIBRATION.to_dict()
    assert "calibration" not in blackfriday.secret_outputs


def test_the_config_override_replaces_the_job() -> None:
    run = run_program({"calibration": json.dumps(MEASURED.to_dict())})
    assert [j.name for j in run.of_type(JOB)] == ["catalog-seed"]
    assert not run.of_type(COMMAND)
    assert Calibration.from_json(config_map_data(run, "loadgen-config")["CALIBRATION_JSON"], "cm") == MEASURED
    assert run.outputs["calibration"]["products"] == 2_230_000


def test_fixed_size_and_quick_probe_reach_the_job() -> None:
    container = _job(run_program({"catalogProducts": "20000", "calibrationProbe": "quick"}))[
        "spec"]["template"]["spec"]["containers"][0]
    assert container["command"][-3:] == ["--products", "20000", "--quick"]


@pytest.mark.parametrize(("config", "message"), [
    ({"calibrationRun": "Run_2"}, "config key 'calibrationRun' is 'Run_2'; allowed values: 1 to 30 lowercase"),
    ({"calibrationProbe": "slow"}, "config key 'calibrationProbe' is 'slow'; allowed values: full, quick"),
    ({"catalogProducts": "5"}, "config key 'catalogProducts' is 5; allowed values: 0 (calibration sizes"),
])
def test_bad_calibration_config_fails_the_preview_naming_the_key(config: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        run_program(config, preview=True)


def _read_result(baseline: Run, tmp_path: Path, log: str) -> subprocess.CompletedProcess[str]:
    """The Command's create script, run as local.Command runs it, with a kubectl that prints `log`."""
    (tmp_path / "log").write_text(log)
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/args\ncat {tmp_path}/log\n')
    kubectl.chmod(0o755)
    script = baseline.named(COMMAND, "calibration-result").inputs["create"]
    return subprocess.run(["/bin/sh", "-c", script], env={**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30, check=False)


def test_the_command_reads_the_last_result_line_from_the_jobs_log(baseline: Run, tmp_path: Path) -> None:
    line = RESULT_PREFIX + json.dumps(MEASURED.to_dict())
    done = _read_result(baseline, tmp_path, f"Calibrating ...\n  probe: 300,000 products\n{line}\n")
    assert done.returncode == 0, done.stderr
    assert Calibration.from_json(done.stdout, "stdout") == MEASURED
    assert (tmp_path / "args").read_text().split() == ["-n", "ecommerce-demo", "logs", "job/calibration-1"]


def test_a_job_without_a_result_fails_the_up_with_its_log_and_what_to_do(baseline: Run, tmp_path: Path) -> None:
    done = _read_result(baseline, tmp_path, "calibration failed: connection refused. Nothing of it is left\n")
    assert done.returncode == 1 and done.stdout == ""
    assert "Job calibration-1 printed no calibration" in done.stderr
    assert "calibration failed: connection refused" in done.stderr
    assert "pulumi up -c calibrationRun=" in done.stderr
