"""The seed Job: applies the schema and loads the catalog (`python -m services seed`).

Idempotent by design of services.seed (the schema is IF NOT EXISTS, only an empty catalog is
seeded), so a retried pod or a replaced Job is harmless. Its env is written literally rather
than taken from the services' ConfigMap: that ConfigMap changes with the scenario, and a Job's
pod template is immutable, so referencing it would replace (and re-run) the Job on every
scenario switch."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import k8s as spec
from infra.options import child_options

NAME = "catalog-seed"
UID = 10001
DEADLINE_SECONDS = 1800


@dataclass(frozen=True)
class CatalogSeedArgs:
    namespace: pulumi.Input[str]
    image: str
    image_pull_policy: str
    products: pulumi.Input[int]  # from the calibration
    db_env: dict[str, str]
    password_secret: pulumi.Input[str]


class CatalogSeed(pulumi.ComponentResource):
    def __init__(self, name: str, args: CatalogSeedArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:CatalogSeed", name, None, opts)
        env = spec.db_client_env(args.db_env, args.password_secret)
        container = {
            "name": NAME,
            "image": args.image,
            "image_pull_policy": args.image_pull_policy,
            "command": ["python", "-m", "services", "seed", "--resize", "--products",
                        pulumi.Output.from_input(args.products).apply(str)],
            "env": env,
            # The work happens in PostgreSQL; the client only streams one statement.
            "resources": spec.resources("200m", "256Mi", "1", "512Mi"),
            "security_context": spec.container_security(UID),
            "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
        }
        # Auto-named: a changed image or product count replaces the Job, and Pulumi waits for
        # the new one to complete before the services (and the scenario) go on.
        self.job = k8s.batch.v1.Job(
            name,
            metadata={"namespace": args.namespace, "labels": spec.labels(NAME, db_client=True),
                      "annotations": {
                          **spec.scanner_skips(spec.OWN_IMAGE_SKIPS),
                          # A Job that failed is replaced by the next `pulumi up` instead of
                          # being awaited again; the wait matches the Job's own deadline.
                          "pulumi.com/replaceUnready": "true",
                          "pulumi.com/timeoutSeconds": str(DEADLINE_SECONDS)}},
            spec={
                # Retries cover PostgreSQL still starting when the first pod runs.
                "backoff_limit": 6,
                "active_deadline_seconds": DEADLINE_SECONDS,
                "template": spec.run_once_pod(NAME, UID, container),
            },
            opts=child_options(self, opts),
        )
        self.register_outputs({"job": self.job.metadata.apply(lambda m: m.name)})
