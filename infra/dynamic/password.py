"""A random password, generated once and kept (as a secret) in state: the stack's database
and admin credentials, which must stay stable across `pulumi up`s."""

from __future__ import annotations

import secrets
import string
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider

ALPHABET = string.ascii_letters + string.digits


class PasswordProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        result = "".join(secrets.choice(ALPHABET) for _ in range(int(props["length"])))
        return CreateResult(id_=secrets.token_hex(8), outs={"length": props["length"], "result": result})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("length") != news.get("length")
        return DiffResult(changes=changed, replaces=["length"] if changed else [])


class Password(pulumi.dynamic.Resource, module="password", name="Password"):
    result: pulumi.Output[str]

    def __init__(self, name: str, *, length: int, opts: pulumi.ResourceOptions | None = None):
        secret = pulumi.ResourceOptions(additional_secret_outputs=["result"])
        super().__init__(
            PasswordProvider(), name, {"length": length, "result": None}, pulumi.ResourceOptions.merge(opts, secret)
        )
