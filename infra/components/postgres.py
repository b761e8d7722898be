"""PostgreSQL: a StatefulSet with a volume, its Service, a generated password kept in a Secret,
reachable only by the pods labelled as its clients (see network.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import k8s as spec
from infra.dynamic.password import Password
from infra.options import as_secret, child_options

NAME = "postgres"
PORT = 5432
DB_NAME = "ecommerce"
DB_USER = "ecommerce_user"
UID = 70  # the postgres user of the alpine image
# Each service's pool may grow to 100 connections in the baseline (3 services): leave room
# for them, the seed Job and a DBA's psql, so the baseline never sees "too many clients".
MAX_CONNECTIONS = 320


@dataclass(frozen=True)
class PostgresArgs:
    namespace: pulumi.Input[str]
    image: str
    storage: str
    cpu_limit: str  # the capacity the outage is calibrated against


def _request(limit: str) -> str:
    """250m, or the limit where that is lower (a request above its limit is refused)."""
    millis = float(limit[:-1]) if limit.endswith("m") else float(limit) * 1000
    return "250m" if millis >= 250 else limit


class Postgres(pulumi.ComponentResource):
    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:Postgres", name, None, opts)
        child = child_options(self, opts)
        password = Password(f"{name}-password", length=32, opts=child)
        self.secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={"name": "postgres-credentials", "namespace": args.namespace},
            string_data={"password": as_secret(password.result)},
            opts=child,
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, "namespace": args.namespace, "labels": spec.labels(NAME)},
            spec={"selector": spec.selector(NAME), "cluster_ip": "None",
                  "ports": [{"name": "postgres", "port": PORT, "target_port": PORT}]},
            opts=child,
        )
        self.statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": NAME, "namespace": args.namespace, "labels": spec.labels(NAME),
                      "annotations": spec.scanner_skips(spec.POSTGRES_UID_SKIP)},
            spec=self._statefulset_spec(args),
            opts=child_options(self, opts, depends_on=[self.service, self.secret]),
        )
        self.host = NAME
        self.port = PORT
        self.password_secret_name: pulumi.Output[str] = self.secret.metadata.apply(
            lambda m: m.name)
        self.statefulset_name: pulumi.Output[str] = self.statefulset.metadata.apply(
            lambda m: m.name)
        self.register_outputs({"host": self.host, "statefulset": self.statefulset_name})

    def _statefulset_spec(self, args: PostgresArgs) -> spec.Spec:
        ready = ["pg_isready", "-h", "127.0.0.1", "-U", DB_USER, "-d", DB_NAME]
        container = {
            "name": NAME,
            "image": args.image,
            # No parallel workers, as in the local rehearsal: one process per scan keeps the CPU
            # each query gets, and so the calibrated timeline, predictable.
            "args": ["-c", f"max_connections={MAX_CONNECTIONS}", "-c", "shared_buffers=128MB",
                     "-c", "max_parallel_workers_per_gather=0"],
            "ports": [{"name": "postgres", "container_port": PORT}],
            "env": [
                {"name": "POSTGRES_USER", "value": DB_USER},
                {"name": "POSTGRES_DB", "value": DB_NAME},
                # A subdirectory: the volume's root may hold lost+found, which initdb refuses.
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                {"name": "POSTGRES_PASSWORD", "value_from": {"secret_key_ref": {
                    "name": "postgres-credentials", "key": "password"}}},
            ],
            "resources": spec.resources(_request(args.cpu_limit), "384Mi", args.cpu_limit, "1Gi"),
            # Readiness over TCP: during initdb the entrypoint's temporary server listens on
            # the socket only, and clients must not be sent to it.
            "readiness_probe": spec.exec_probe(ready, period=5, failures=3, delay=5),
            "liveness_probe": spec.exec_probe(ready, period=10, failures=6, delay=60),
            "security_context": spec.container_security(UID),
            "volume_mounts": [
                {"name": "data", "mount_path": "/var/lib/postgresql/data"},
                {"name": "run", "mount_path": "/var/run/postgresql"},
                {"name": "tmp", "mount_path": "/tmp"},
            ],
        }
        return {
            "service_name": NAME,
            "replicas": 1,
            "selector": {"match_labels": spec.selector(NAME)},
            "template": {
                "metadata": {"labels": spec.labels(NAME)},
                "spec": {
                    "security_context": spec.pod_security(UID, fs_group=UID),
                    "automount_service_account_token": False,  # no pod here calls the API
                    "containers": [container],
                    "volumes": [spec.tmp_volume("run", "16Mi"), spec.tmp_volume()],
                },
            },
            "volume_claim_templates": [{
                "metadata": {"name": "data"},
                "spec": {"access_modes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": args.storage}}},
            }],
        }
