"""Resource options shared by the components."""

from __future__ import annotations

import pulumi


def child_options(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None,
                  **extra: object) -> pulumi.ResourceOptions:
    """Options for a component's child: parented to it, and waiting for whatever the component
    was told to depend on. Pulumi does not pass a component's depends_on down to its children,
    so without this, `depends_on=[seed]` on a component would order nothing."""
    deps: list[pulumi.Resource] = []
    if opts is not None and opts.depends_on is not None:
        given = opts.depends_on
        deps = [given] if isinstance(given, pulumi.Resource) else list(given)  # type: ignore[arg-type]
    merged = list(extra.pop("depends_on", []))  # type: ignore[call-overload]
    return pulumi.ResourceOptions(parent=parent, depends_on=deps + merged, **extra)  # type: ignore[arg-type]


def as_secret(value: pulumi.Output[str]) -> pulumi.Output[str]:
    """Marks a generated credential secret in the program itself, not only through the
    provider schema's additional_secret_outputs (which mocks and reviewers do not see)."""
    return value.apply(pulumi.Output.secret)
