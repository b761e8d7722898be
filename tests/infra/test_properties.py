"""Properties every configuration of the stack must keep: secrets stay in Secrets, every
container is bounded, probed and restricted, and the whole stack fits a laptop."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import Run, walk
from tests.infra.k8s_objects import pod_specs

RUNS = ("baseline", "blackfriday", "coralogix", "otlp")
MAX_CPU_MILLI = 1500
MAX_MEMORY_MI = 1536  # 1.5 GiB


@pytest.fixture(params=RUNS)
def run(request: pytest.FixtureRequest, all_runs: dict[str, Run]) -> Run:
    return all_runs[request.param]


def _text(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def test_the_mocks_generate_secrets_to_look_for(run: Run) -> None:
    # Guards the tests below: if no secret were generated, they would pass vacuously.
    assert len(run.secrets()) >= 4


def test_no_secret_in_any_config_map(run: Run) -> None:
    for cm in run.of_type("kubernetes:core/v1:ConfigMap"):
        text = _text(cm.inputs)
        for secret in run.secrets():
            assert secret not in text, f"{cm.name} holds secret material"


def test_no_secret_in_any_plain_output(run: Run) -> None:
    for key, value in run.outputs.items():
        if key in run.secret_outputs:
            continue
        for secret in run.secrets():
            assert secret not in _text(value), f"output {key} leaks a secret"


def test_no_secret_in_any_command_script(run: Run) -> None:
    # Command scripts and their output are stored in plain state and printed in logs.
    for cmd in run.of_type("pulumi-python:dynamic/command:Command"):
        for secret in run.secrets():
            assert secret not in _text(cmd.inputs)


def test_no_secret_in_any_workload_spec(run: Run) -> None:
    # Pod specs are readable by anyone who can `kubectl get`; credentials come via secretKeyRef.
    for workload, _, _ in pod_specs(run):
        for secret in run.secrets():
            assert secret not in _text(workload.inputs), workload.name


def test_generated_secrets_reach_only_secrets() -> None:
    from tests.infra.conftest import CORALOGIX_KEY, run_program

    run = run_program({"exporter": "coralogix", "coralogixPrivateKey": CORALOGIX_KEY},
                      secret_keys=("coralogixPrivateKey",))
    holders = {r.name for r in run.k8s_objects()
               if any(s in _text(r.inputs) for s in run.secrets())}
    assert holders == {"postgres-credentials", "loadgen-admin", "otel-collector-exporter"}


def _containers(run: Run) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{w.name}/{c['name']}", c) for w, spec, _ in pod_specs(run)
            for c in spec.get("initContainers", []) + spec["containers"]]


def test_every_container_has_requests_limits_and_probes(run: Run) -> None:
    for name, c in _containers(run):
        for kind in ("requests", "limits"):
            assert set(c["resources"][kind]) == {"cpu", "memory"}, name
        if name.startswith(("catalog-seed", "auto-revert", "calibration")):
            continue  # a Job runs to completion: probes do not apply to it
        assert "readinessProbe" in c and "livenessProbe" in c, name


def test_every_pod_runs_under_the_restricted_profile(run: Run) -> None:
    for workload, spec, _ in pod_specs(run):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, workload.name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, workload.name
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), workload.name
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, workload.name
    for name, c in _containers(run):
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], name
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert not sc.get("privileged"), name


def test_the_namespace_enforces_the_restricted_profile(run: Run) -> None:
    [ns] = run.of_type("kubernetes:core/v1:Namespace")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def cpu_milli(q: str) -> float:
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000


def memory_mi(q: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(q[:-2]) * units[q[-2:]] if q[-2:] in units else float(q) / 2**20


# Jobs that end before the storefront starts (each before the next: calibration, then the seed).
SETUP_JOBS = ("calibration", "catalog-seed")


def footprint(run: Run) -> tuple[float, float]:
    """Requests of the pods that run at once: every long-running one (the waiting auto-revert Job
    included) and the larger of the setup Jobs."""
    cpu = mem = 0.0
    setup: list[tuple[float, float]] = [(0.0, 0.0)]
    for workload, spec, replicas in pod_specs(run):
        c_cpu = replicas * sum(cpu_milli(c["resources"]["requests"]["cpu"]) for c in spec["containers"])
        c_mem = replicas * sum(memory_mi(c["resources"]["requests"]["memory"]) for c in spec["containers"])
        if workload.name in SETUP_JOBS:
            setup.append((c_cpu, c_mem))
        else:
            cpu, mem = cpu + c_cpu, mem + c_mem
    return cpu + max(c for c, _ in setup), mem + max(m for _, m in setup)


def test_quantity_parsing() -> None:
    assert cpu_milli("250m") == 250 and cpu_milli("1") == 1000
    assert memory_mi("384Mi") == 384 and memory_mi("1Gi") == 1024


def test_the_stack_fits_a_laptop(run: Run) -> None:
    cpu, mem = footprint(run)
    print(f"footprint: {cpu:g}m CPU, {mem:g}Mi memory requested")
    assert cpu <= MAX_CPU_MILLI and mem <= MAX_MEMORY_MI


def test_more_load_generators_are_counted() -> None:
    from tests.infra.conftest import run_program

    one = footprint(run_program({}))
    three = footprint(run_program({"loadgenReplicas": "3"}))
    assert three[0] == one[0] + 200 and three[1] == one[1] + 256


def test_secret_values_never_appear_in_leaves_of_outputs(run: Run) -> None:
    leaves = [str(v) for v in walk(run.outputs)]
    assert not any(s in leaf for s in run.secrets() for leaf in leaves)
