"""A forgotten scenario reverts itself: a Job in the cluster that waits until the timeline has
ended plus `revertAfterMinutes`, then runs the scenario's restore SQL with psql from the
PostgreSQL image, so the outage ends without Pulumi or the presenter's laptop. The restore SQL
is idempotent, so the Job and Pulumi's own restore (removing the scenario deletes this Job and
runs the Command's delete) can both run, in either order. Pulumi does not await it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import k8s as spec
from infra.options import child_options

NAME = "scenario-auto-revert"
UID = 70  # the postgres user of the alpine image, whose psql runs the restore

# Waiting is the Job's whole purpose: the clock decides when this actor acts, nothing else.
SCRIPT = """set -eu
wait=$(( REVERT_AT - $(date +%s) ))
if [ "$wait" -gt 0 ]; then
  echo "the scenario reverts at $(date -u -d "@$REVERT_AT" 2>/dev/null || echo "$REVERT_AT"), in $wait s"
  sleep "$wait"
fi
psql -X -v ON_ERROR_STOP=1 -f /sql/restore.sql
echo "scenario reverted: the indexes are back"
"""


@dataclass(frozen=True)
class AutoRevertArgs:
    namespace: pulumi.Input[str]
    image: str              # the PostgreSQL image (its psql)
    restore_sql: str
    reverts_at: pulumi.Input[int]  # Unix seconds
    db_host: str
    db_port: int
    db_user: str
    db_name: str
    password_secret: pulumi.Input[str]


class AutoRevert(pulumi.ComponentResource):
    def __init__(self, name: str, args: AutoRevertArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:scenario:AutoRevert", name, None, opts)
        child = child_options(self, opts)
        sql = k8s.core.v1.ConfigMap(f"{name}-sql", metadata={"namespace": args.namespace},
                                    data={"restore.sql": args.restore_sql}, opts=child)
        env = [{"name": "REVERT_AT", "value": pulumi.Output.from_input(args.reverts_at).apply(str)},
               {"name": "PGHOST", "value": args.db_host}, {"name": "PGPORT", "value": str(args.db_port)},
               {"name": "PGUSER", "value": args.db_user}, {"name": "PGDATABASE", "value": args.db_name},
               {"name": "PGPASSWORD", "value_from": {"secret_key_ref": {"name": args.password_secret,
                                                                       "key": "password"}}}]
        container = {
            "name": NAME, "image": args.image, "command": ["/bin/sh", "-c", SCRIPT], "env": env,
            "resources": spec.resources("10m", "32Mi", "200m", "128Mi"),
            "security_context": spec.container_security(UID),
            "volume_mounts": [{"name": "sql", "mount_path": "/sql", "read_only": True},
                              {"name": "tmp", "mount_path": "/tmp"}],
        }
        self.job = k8s.batch.v1.Job(
            name,
            metadata={"namespace": args.namespace, "labels": spec.labels(NAME, db_client=True),
                      # It waits for an hour or more: `pulumi up` must not wait with it.
                      "annotations": {"pulumi.com/skipAwait": "true", **spec.scanner_skips(spec.POSTGRES_UID_SKIP)}},
            spec={"backoff_limit": 6, "template": {
                "metadata": {"labels": spec.labels(NAME, db_client=True)},
                "spec": {"restart_policy": "Never", "security_context": spec.pod_security(UID),
                         "automount_service_account_token": False,  # no pod here calls the API
                         "containers": [container],
                         "volumes": [{"name": "sql", "config_map": {"name": sql.metadata.apply(lambda m: m.name)}},
                                     spec.tmp_volume()]}}},
            opts=child)
        self.reverts_at = args.reverts_at
        self.register_outputs({"revertsAt": args.reverts_at})
