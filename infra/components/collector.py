"""The OpenTelemetry Collector (contrib): OTLP in, batch and memory_limiter, spanmetrics for
RED metrics, and one exporter chosen by config (debug, otlp, coralogix)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import collector_config as cc
from infra import k8s as spec
from infra.options import child_options

NAME = "otel-collector"
UID = 10001  # the contrib image's non-root user


@dataclass(frozen=True)
class CollectorArgs:
    namespace: pulumi.Input[str]
    image: str
    exporter: str
    otlp_endpoint: str
    coralogix_domain: str
    # The exporter's credential (Coralogix key, or OTLP headers as a JSON object), a secret.
    credential: pulumi.Input[str] | None


class OtelCollector(pulumi.ComponentResource):
    def __init__(self, name: str, args: CollectorArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:OtelCollector", name, None, opts)
        child = child_options(self, opts)
        env_name = cc.CORALOGIX_KEY_ENV if args.exporter == "coralogix" else cc.OTLP_HEADERS_ENV
        config = cc.render(args.exporter, otlp_endpoint=args.otlp_endpoint,
                           coralogix_domain=args.coralogix_domain,
                           with_headers=args.credential is not None)
        # Auto-named, like the services' ConfigMaps, so a config change rolls the collector.
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata={"namespace": args.namespace},
            data={"config.yaml": json.dumps(config, indent=2, sort_keys=True)}, opts=child)
        env: list[spec.Spec] = [{"name": "GOMEMLIMIT", "value": f"{cc.MEMORY_LIMIT_MIB}MiB"}]
        if args.credential is not None:
            secret = k8s.core.v1.Secret(
                f"{name}-exporter", metadata={"namespace": args.namespace},
                string_data={env_name: pulumi.Output.secret(args.credential)}, opts=child)
            env.append({"name": env_name, "value_from": {"secret_key_ref": {
                "name": secret.metadata.apply(lambda m: m.name), "key": env_name}}})
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": NAME, "namespace": args.namespace, "labels": spec.labels(NAME)},
            spec=_deployment_spec(args.image, env, config_map.metadata.apply(lambda m: m.name)),
            opts=child,
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, "namespace": args.namespace, "labels": spec.labels(NAME)},
            spec={"selector": spec.selector(NAME), "ports": [
                {"name": "otlp-grpc", "port": cc.OTLP_GRPC_PORT, "target_port": cc.OTLP_GRPC_PORT},
                {"name": "otlp-http", "port": cc.OTLP_HTTP_PORT, "target_port": cc.OTLP_HTTP_PORT},
            ]},
            opts=child,
        )
        # The services export OTLP over HTTP/protobuf.
        self.otlp_http_endpoint = f"http://{NAME}:{cc.OTLP_HTTP_PORT}"
        self.register_outputs({"endpoint": self.otlp_http_endpoint})


def _deployment_spec(image: str, env: list[spec.Spec],
                     config_map: pulumi.Input[str]) -> spec.Spec:
    container = {
        "name": NAME,
        "image": image,
        "args": ["--config=/conf/config.yaml"],
        "env": env,
        "ports": [{"name": "otlp-grpc", "container_port": cc.OTLP_GRPC_PORT},
                  {"name": "otlp-http", "container_port": cc.OTLP_HTTP_PORT}],
        "resources": spec.resources("100m", "128Mi", "500m", "384Mi"),
        "readiness_probe": spec.http_probe("/", cc.HEALTH_PORT, period=5, failures=3),
        "liveness_probe": spec.http_probe("/", cc.HEALTH_PORT, period=10, failures=6, delay=10),
        "security_context": spec.container_security(UID),
        "volume_mounts": [{"name": "config", "mount_path": "/conf", "read_only": True}],
    }
    return {
        "replicas": 1,
        "selector": {"match_labels": spec.selector(NAME)},
        "template": {
            "metadata": {"labels": spec.labels(NAME)},
            "spec": {
                "security_context": spec.pod_security(UID),
                "automount_service_account_token": False,  # no pod here calls the API
                "containers": [container],
                "volumes": [{"name": "config", "config_map": {"name": config_map}}],
            },
        },
    }
