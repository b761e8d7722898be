"""One storefront service: a Deployment (or, for the load generator, a StatefulSet) of the
shared image and its ClusterIP Service."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra import k8s as spec
from infra.options import child_options

UID = 10001  # the non-root user the Dockerfile creates
# A StatefulSet pod's ordinal, as a label Kubernetes (>= 1.28) sets and the downward API reads.
POD_INDEX = "metadata.labels['apps.kubernetes.io/pod-index']"


@dataclass(frozen=True)
class SecretEnv:
    env: str
    secret: pulumi.Input[str]
    key: str


@dataclass(frozen=True)
class MicroserviceArgs:
    namespace: pulumi.Input[str]
    service: str  # the argument of `python -m services`
    port: int
    image: str
    image_pull_policy: str
    config_maps: list[pulumi.Input[str]]
    secret_env: list[SecretEnv] = field(default_factory=list)
    replicas: int = 1
    db_client: bool = True
    # Set: a StatefulSet whose pods get their ordinal (0..replicas-1) in this environment
    # variable, from the pod-index label Kubernetes >= 1.28 puts on StatefulSet pods. Unset: a
    # Deployment, whose pods are interchangeable and cannot tell themselves apart.
    ordinal_env: str | None = None


class Microservice(pulumi.ComponentResource):
    def __init__(self, name: str, args: MicroserviceArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:Microservice", name, None, opts)
        child = child_options(self, opts)
        meta: spec.Spec = {"name": args.service, "namespace": args.namespace,
                           "labels": spec.labels(args.service)}
        workload: spec.Spec = {
            "replicas": args.replicas,
            "selector": {"match_labels": spec.selector(args.service)},
            "template": {
                "metadata": {"labels": spec.labels(args.service, db_client=args.db_client, telemetry=True)},
                "spec": {
                    "security_context": spec.pod_security(UID),
                    "automount_service_account_token": False,  # no pod here calls the API
                    "termination_grace_period_seconds": 15,
                    "containers": [_container(args)],
                    "volumes": [spec.tmp_volume()],
                },
            },
        }
        self.workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet
        if args.ordinal_env is None:
            self.workload = k8s.apps.v1.Deployment(
                f"{name}-deployment", metadata=_scanned(meta), spec=workload, opts=child)
        else:
            self.workload = k8s.apps.v1.StatefulSet(
                f"{name}-statefulset", metadata=_scanned(meta), opts=child, spec={
                    **workload,
                    # The governing Service is the ClusterIP Service below, not a headless
                    # one: nothing addresses a replica by its own DNS name (they are told
                    # apart by ordinal only, and reached through port-forward), so a
                    # headless Service would be one more object serving nothing.
                    "service_name": args.service,
                    # All replicas start together (OrderedReady would create pod n only once
                    # pod n-1 is ready): the demo clock is stamped ahead of time, and a
                    # replica's share of the journeys is lost until it runs.
                    "pod_management_policy": "Parallel",
                })
        # A fixed Service name: it is the DNS name the other services are configured with.
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta,
            spec={"selector": spec.selector(args.service),
                  "ports": [{"name": "http", "port": args.port, "target_port": args.port}]},
            opts=child,
        )
        self.url = f"http://{args.service}:{args.port}"
        self.register_outputs({"url": self.url})


def _scanned(meta: spec.Spec) -> spec.Spec:
    return {**meta, "annotations": spec.scanner_skips(spec.OWN_IMAGE_SKIPS)}


def _env(args: MicroserviceArgs) -> list[spec.Spec]:
    kind = "deployment" if args.ordinal_env is None else "statefulset"
    attrs = ",".join([
        "k8s.pod.name=$(K8S_POD_NAME)",
        "k8s.namespace.name=$(K8S_NAMESPACE)",
        f"k8s.{kind}.name={args.service}",
    ])
    env: list[spec.Spec] = [
        {"name": "K8S_POD_NAME", "value_from": {"field_ref": {"field_path": "metadata.name"}}},
        {"name": "K8S_NAMESPACE",
         "value_from": {"field_ref": {"field_path": "metadata.namespace"}}},
        {"name": "OTEL_SERVICE_NAME", "value": args.service},
        # The kubelet expands $(K8S_...) because those variables are declared above.
        {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": attrs},
    ]
    if args.ordinal_env is not None:
        env.append({"name": args.ordinal_env,
                    "value_from": {"field_ref": {"field_path": POD_INDEX}}})
    env += [{"name": s.env, "value_from": {"secret_key_ref": {"name": s.secret, "key": s.key}}}
            for s in args.secret_env]
    return env


def _container(args: MicroserviceArgs) -> spec.Spec:
    return {
        "name": args.service,
        "image": args.image,
        "image_pull_policy": args.image_pull_policy,
        "command": ["python", "-m", "services", args.service],
        "ports": [{"name": "http", "container_port": args.port}],
        "env_from": [{"config_map_ref": {"name": cm}} for cm in args.config_maps],
        "env": _env(args),
        "resources": spec.resources("100m", "128Mi", "500m", "384Mi"),
        # Readiness only checks that the database has answered once (see
        # services/shared/health.py): under pool exhaustion the pods must stay in the Service,
        # or the demo would show a cascade of Kubernetes' making instead of the database's.
        "readiness_probe": spec.http_probe("/ready", args.port, period=5, failures=3),
        "liveness_probe": spec.http_probe("/health", args.port, period=10, failures=6,
                                          delay=10),
        "security_context": spec.container_security(UID),
        "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
    }
