"""A shell command run on the machine that runs `pulumi`: `create` when the resource is
created, the stored `delete` when it is deleted (even from state alone, after the program no
longer declares it). Its stdout is kept in state, so a value a command measured once (the demo
clock, the calibration) stays fixed until its triggers change.

A change of `create` or of `triggers` replaces the resource (by default the new one is
created before the old one is deleted; pass delete_before_replace to reverse that); a change
of `delete` alone is stored without running anything."""

from __future__ import annotations

import secrets
import subprocess
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

# A command that hangs (a cluster that stopped answering) fails the update instead of holding it.
TIMEOUT_S = 1800
REPLACING = ("create", "triggers")


class CommandError(Exception):
    pass


def run(script: str) -> str:
    """The script under /bin/sh -c, as `pulumi_command`'s local.Command ran it; its stdout."""
    result = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if result.returncode != 0:
        tail = (result.stderr.strip() or result.stdout.strip())[-2000:]
        raise CommandError(f"the command exited with {result.returncode}: {tail}")
    return result.stdout


class CommandProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        stdout = run(props["create"])
        return CreateResult(id_=secrets.token_hex(8), outs={**props, "stdout": stdout})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACING if olds.get(k) != news.get(k)]
        changed = replaces + (["delete"] if olds.get("delete") != news.get("delete") else [])
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={**news, "stdout": olds.get("stdout", "")})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("delete"):
            run(props["delete"])


class Command(pulumi.dynamic.Resource, module="command", name="Command"):
    stdout: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        create: pulumi.Input[str],
        delete: pulumi.Input[str] | None = None,
        triggers: pulumi.Input[list[Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        props = {"create": create, "delete": delete, "triggers": triggers or [], "stdout": None}
        super().__init__(CommandProvider(), name, props, opts)
