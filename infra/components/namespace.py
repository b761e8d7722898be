"""The demo's namespace, enforcing the restricted Pod Security profile on every pod in it."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.k8s import PART_OF
from infra.options import child_options


class Namespace(pulumi.ComponentResource):
    def __init__(self, name: str, namespace: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:k8s:Namespace", name, None, opts)
        restricted = {
            f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn")
        }
        # A fixed name, not auto-named: the README, the kubectl commands and the stack outputs
        # all address the namespace by the configured name.
        self.resource = k8s.core.v1.Namespace(
            name,
            metadata={"name": namespace, "labels": {"app.kubernetes.io/part-of": PART_OF,
                                                    **restricted}},
            opts=child_options(self, opts),
        )
        self.name: pulumi.Output[str] = self.resource.metadata.apply(lambda m: m.name)
        self.register_outputs({"name": self.name})
