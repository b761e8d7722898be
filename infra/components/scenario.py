"""The scenario's two local commands: one breaks the database, one stamps the demo clock.

The break is a Command (infra/dynamic/command.py) whose `create` runs the scenario's break.sql
in the PostgreSQL pod and whose `delete` runs restore.sql. Both scripts, SQL included, are stored
in Pulumi's state, so removing the scenario or `pulumi destroy` runs the restore from state,
even on another machine after the one that applied the scenario crashed."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from typing import Any

import pulumi

from infra import k8s as spec
from infra.dynamic.command import Command
from infra.options import child_options
from scenarios.model import Scenario
from scenarios.timeline import timeline

HEREDOC = "BFDEMO_SQL"


@dataclass(frozen=True)
class ScenarioArgs:
    scenario: Scenario
    break_sql: str    # the SQL texts, stored in state with the scripts that run them
    restore_sql: str
    namespace: str
    statefulset: str
    container: str
    db_user: str
    db_name: str
    kube_context: str
    # Part of the clock's triggers: bumping it re-stamps the start without touching the DB.
    demo_run: str
    # Seconds from the stamp to minute 0: the pods roll meanwhile, so the load generator is
    # up when the timeline starts instead of joining it late (arrivals before it joined are lost).
    lead_seconds: int = 30


def kubectl(args: ScenarioArgs) -> str:
    return spec.kubectl(args.kube_context, args.namespace)


def sql_script(args: ScenarioArgs, sql: str, *, missing_ok: bool, one_transaction: bool) -> str:
    """A shell script that pipes `sql` into psql in the PostgreSQL pod, on stdin.

    The SQL is inlined as a quoted heredoc (no shell expansion) rather than read from a path,
    so the script in Pulumi's state is self-contained. The break runs as one transaction
    (psql -1): one that fails half-way changes nothing, so a failed `up` stores no state and
    leaves no half-broken database. The restore cannot: CREATE INDEX CONCURRENTLY runs outside
    any transaction (its own SQL is idempotent instead)."""
    if HEREDOC in sql:
        raise ValueError(f"the SQL must not contain the heredoc delimiter {HEREDOC}")
    kc = kubectl(args)
    target = f"statefulset/{args.statefulset}"
    guard = ""
    if missing_ok:
        # On `pulumi destroy` the database may already be gone, and then there is nothing to
        # restore. --ignore-not-found prints nothing for a missing StatefulSet but still fails
        # (and so fails the delete) when the cluster cannot be reached.
        guard = (f"found=$({kc} get {target} --ignore-not-found -o name)\n"
                 f'if [ -z "$found" ]; then echo "{target} is gone; nothing to restore"; '
                 "exit 0; fi\n")
    psql = (f"{kc} exec -i {target} -c {shlex.quote(args.container)} -- "
            f"psql -X{' -1' if one_transaction else ''} -v ON_ERROR_STOP=1 -U {shlex.quote(args.db_user)} "
            f"-d {shlex.quote(args.db_name)}")
    return f"set -eu\n{guard}{psql} <<'{HEREDOC}'\n{sql.rstrip()}\n{HEREDOC}\n"


def sql_digest(*texts: str) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()


class ScenarioSwitch(pulumi.ComponentResource):
    def __init__(self, name: str, args: ScenarioArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:scenario:ScenarioSwitch", name, None, opts)
        break_sql, restore_sql = args.break_sql, args.restore_sql
        self.break_database = Command(
            f"{name}-break-database",
            create=sql_script(args, break_sql, missing_ok=False, one_transaction=True),
            delete=sql_script(args, restore_sql, missing_ok=True, one_transaction=False),
            # Another scenario, a changed break.sql or restore.sql, or a new demoRun replaces the
            # command: restore with the old state's script, then break with the new one. The
            # component's name is fixed ("scenario"), so going from one scenario straight to
            # another is this replace, not a create beside a delete in the engine's own order.
            # demoRun is here because a rerun must start from the break: the revert Job (or a
            # DBA) may have restored the database since the last one.
            triggers=[args.scenario.name, sql_digest(break_sql, restore_sql), args.demo_run],
            # Delete first: the default create-before-delete order would break, then restore.
            opts=child_options(self, opts, delete_before_replace=True),
        )
        # The start of the demo clock, stored in state as the command's stdout: stable across
        # later `pulumi up`s until the scenario (or demoRun) changes. Taken after the break.
        self.clock = Command(
            f"{name}-demo-clock",
            create=f"echo $(( $(date -u +%s) + {args.lead_seconds} ))",
            triggers=[args.scenario.name, args.demo_run],
            opts=child_options(self, opts, depends_on=[self.break_database]),
        )
        self.start_timestamp: pulumi.Output[int] = self.clock.stdout.apply(
            lambda out: int(out.strip()))
        self.scenario = args.scenario
        self.register_outputs({"startTimestamp": self.start_timestamp})

    def timeline(self, minute_seconds: float) -> pulumi.Output[dict[str, Any]]:
        """Phases and the expected alert in UTC, from the stamped start (see scenarios.timeline)."""
        return self.start_timestamp.apply(lambda ts: timeline(self.scenario, ts, minute_seconds))
