"""The four services of the one image, their ConfigMaps and the load generator's admin token.

Why the pods roll when the scenario changes: the ConfigMaps are auto-named. The Kubernetes
provider replaces a ConfigMap whose data changed (it treats ConfigMaps as immutable), the new
name flows into every workload's envFrom, and that pod-template change rolls them. Chosen over
a checksum annotation because each ReplicaSet (each revision of the load generator's
StatefulSet) keeps pointing at the exact ConfigMap it was created with: a pod of the old
revision that restarts mid-rollout cannot pick up half of the new configuration, and the old
ConfigMap is deleted only after the rollout succeeded."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components.service import Microservice, MicroserviceArgs, SecretEnv
from infra.dynamic.password import Password
from infra.options import as_secret, child_options
from services.ports import LOAD_GENERATOR, PORTS, STOREFRONT

ADMIN_SECRET = "loadgen-admin"


@dataclass(frozen=True)
class StorefrontArgs:
    namespace: pulumi.Input[str]
    image: str
    image_pull_policy: str
    # Every key the services read from the shared ConfigMap (DB_*, DEMO_*, OTEL endpoint).
    config: dict[str, pulumi.Input[str]]
    password_secret: pulumi.Input[str]
    loadgen_replicas: int
    calibration_json: pulumi.Input[str]  # the calibration Job's result, or the config's override
    # When a forgotten scenario restores itself (Unix seconds); its status tells the presenter.
    reverts_at: pulumi.Input[int] | None = None
    prometheus_url: str = ""  # the presenter page's Prometheus (config prometheusUrl)


class Storefront(pulumi.ComponentResource):
    def __init__(self, name: str, args: StorefrontArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:Storefront", name, None, opts)
        child = child_options(self, opts)
        shared = k8s.core.v1.ConfigMap(
            "services-config", metadata={"namespace": args.namespace}, data=args.config,
            opts=child)
        self.config_map_name: pulumi.Output[str] = shared.metadata.apply(lambda m: m.name)
        self.services: dict[str, Microservice] = {}
        password = SecretEnv("DB_PASSWORD", args.password_secret, "password")
        for service in STOREFRONT:
            self.services[service] = Microservice(service, MicroserviceArgs(
                namespace=args.namespace, service=service, port=PORTS[service],
                image=args.image, image_pull_policy=args.image_pull_policy,
                config_maps=[self.config_map_name], secret_env=[password]), opts=child)
        self.services[LOAD_GENERATOR] = self._load_generator(args, child)
        self.register_outputs({"configMap": self.config_map_name})

    def _load_generator(self, args: StorefrontArgs, child: pulumi.ResourceOptions) -> Microservice:
        token = Password("loadgen-admin-token", length=40, opts=child)
        secret = k8s.core.v1.Secret(
            "loadgen-admin", metadata={"name": ADMIN_SECRET, "namespace": args.namespace},
            string_data={"token": as_secret(token.result)}, opts=child)
        data: dict[str, pulumi.Input[str]] = {
            **{f"{s.upper().replace('-', '_')}_URL": self.services[s].url for s in STOREFRONT},
            "LOADGEN_REPLICAS": str(args.loadgen_replicas),
            "CALIBRATION_JSON": args.calibration_json,
        }
        if args.prometheus_url:
            data["PROMETHEUS_URL"] = args.prometheus_url
        if args.reverts_at is not None:
            data["DEMO_REVERT_AT"] = pulumi.Output.from_input(args.reverts_at).apply(str)
        extra = k8s.core.v1.ConfigMap(
            "loadgen-config", metadata={"namespace": args.namespace}, data=data, opts=child)
        # Not a database client: the NetworkPolicy keeps the load generator away from PostgreSQL.
        # A StatefulSet, so that each replica knows its index: replica i sends 1/N of the
        # journeys at its own phase and names its shoppers shopper-{i}-*. (Deployment pods
        # would all be index 0: coinciding arrivals, colliding shopper ids.)
        return Microservice(LOAD_GENERATOR, MicroserviceArgs(
            namespace=args.namespace, service=LOAD_GENERATOR, port=PORTS[LOAD_GENERATOR],
            image=args.image, image_pull_policy=args.image_pull_policy,
            config_maps=[self.config_map_name, extra.metadata.apply(lambda m: m.name)],
            secret_env=[SecretEnv("ADMIN_TOKEN", secret.metadata.apply(lambda m: m.name),
                                  "token")],
            replicas=args.loadgen_replicas, db_client=False,
            ordinal_env="LOADGEN_REPLICA_INDEX"), opts=child)
