"""Calibration where the database runs: a Job of the services image measures the stack's own
PostgreSQL (`python -m services calibrate`, in a database of its own that it drops at the
end), and a local Command reads its result from the Job's log into Pulumi's state.

Fixed once measured: the Job ignores changes to its spec (a rebuilt image, a new scenario do
not measure again) and the Command runs only when the Job is new. `calibrationRun` names the
Job, so setting it to a new value is the one way to measure again (README: Recalibrating).
A Job that failed is replaced by the next `pulumi up` (replaceUnready), which measures again."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import k8s as spec
from infra.dynamic.command import Command
from infra.options import child_options
from scenarios.calibration import RESULT_PREFIX, Calibration

NAME = "calibration"
UID = 10001
DEADLINE_SECONDS = 1800


@dataclass(frozen=True)
class CalibrationArgs:
    namespace: str
    kubectl: str  # `kubectl [--context C] -n NS`
    run: str
    scenario: str
    image: str
    image_pull_policy: str
    db_env: dict[str, str]
    password_secret: pulumi.Input[str]
    database_cpu: str  # how the database's CPU is limited, for the record
    products: int = 0  # 0: calibration sizes the catalog
    quick: bool = False


def job_name(run: str) -> str:
    return f"{NAME}-{run}"


def result_script(kubectl: str, job: str) -> str:
    """Reads the Job's result line from its log; fails `pulumi up` with a sentence otherwise."""
    again = "measure again with: pulumi up -c calibrationRun=<a new value>"
    return (
        "set -eu\n"
        f"log=$({kubectl} logs job/{job}) || {{ echo 'could not read the log of Job {job}; {again}' >&2; "
        "exit 1; }\n"
        f"result=$(printf '%s\\n' \"$log\" | sed -n 's/^{RESULT_PREFIX}//p' | tail -n 1)\n"
        'if [ -z "$result" ]; then\n'
        f"  echo 'Job {job} printed no calibration; the end of its log:' >&2\n"
        "  printf '%s\\n' \"$log\" | tail -n 15 >&2\n"
        f"  echo '{again}' >&2\n"
        "  exit 1\n"
        "fi\n"
        "printf '%s\\n' \"$result\"\n"
    )


def parse(stdout: str) -> str:
    """The Job's result as a calibration's JSON; an error naming the Job when it is not one."""
    return Calibration.from_json(stdout.strip(), "the calibration Job's result").to_json()


class CatalogCalibration(pulumi.ComponentResource):
    def __init__(self, name: str, args: CalibrationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:CatalogCalibration", name, None, opts)
        job = job_name(args.run)
        command = ["python", "-m", "services", "calibrate", "--scenario", args.scenario]
        command += ["--products", str(args.products)] if args.products else []
        command += ["--quick"] if args.quick else []
        env = spec.db_client_env(args.db_env, args.password_secret)
        env += [{"name": "DATABASE_CPU", "value": args.database_cpu},
                {"name": "K8S_NODE_NAME", "value_from": {"field_ref": {"field_path": "spec.nodeName"}}},
                {"name": "K8S_POD_NAME", "value_from": {"field_ref": {"field_path": "metadata.name"}}}]
        container = {
            "name": NAME, "image": args.image, "image_pull_policy": args.image_pull_policy,
            "command": command, "env": env,
            # A failed Job's pod status then carries the end of its log (the sentence saying why
            # and what to do), and Pulumi's Job await prints the pod's status with its failure.
            "termination_message_policy": "FallbackToLogsOnError",
            # The catalog and checkout services (500m each in the demo) and the driver.
            "resources": spec.resources("200m", "256Mi", "1500m", "1Gi"),
            "security_context": spec.container_security(UID),
            "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
        }
        self.job = k8s.batch.v1.Job(
            name,
            metadata={"name": job, "namespace": args.namespace, "labels": spec.labels(NAME, db_client=True),
                      "annotations": {
                          **spec.scanner_skips(spec.OWN_IMAGE_SKIPS),
                          "pulumi.com/replaceUnready": "true",
                          "pulumi.com/timeoutSeconds": str(DEADLINE_SECONDS)}},
            spec={
                # No retry: a failed calibration says why in its log and fails `pulumi up`.
                "backoff_limit": 0,
                "active_deadline_seconds": DEADLINE_SECONDS,
                "template": spec.run_once_pod(NAME, UID, container),
            },
            # Delete first: a new calibrationRun that fails leaves no older Job behind to collide
            # with (measured: going back to the old run then hit that Job, and every `up` failed).
            opts=child_options(self, opts, ignore_changes=["spec"], delete_before_replace=True),
        )
        self.reader = Command(
            # The Job's uid: a Job created again (replaced when it failed, or named by an earlier
            # run again) is read again, never left behind a result from its predecessor.
            f"{name}-result", create=result_script(args.kubectl, job),
            triggers=[job, self.job.metadata.apply(lambda m: m.uid)],
            opts=child_options(self, opts, depends_on=[self.job]))
        self.result: pulumi.Output[str] = self.reader.stdout.apply(parse)
        self.register_outputs({"result": self.result})
