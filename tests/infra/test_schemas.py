"""Every rendered Kubernetes object validates against the schemas of a current Kubernetes."""

from __future__ import annotations

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from tests.infra.conftest import Run
from tests.infra.k8s_objects import manifest

MINIMUM = (1, 33)


def test_the_schemas_are_of_a_current_kubernetes() -> None:
    major, minor = (int(x) for x in latest_version().split(".")[:2])
    assert (major, minor) >= MINIMUM


@pytest.mark.parametrize("case", ["baseline", "blackfriday", "coralogix", "otlp"])
def test_every_object_validates(case: str, all_runs: dict[str, Run]) -> None:
    objects = all_runs[case].k8s_objects()
    assert len(objects) >= 15
    for obj in objects:
        # strict: unknown fields (a typo such as readinessprobe) fail too.
        kubernetes_validate.validate(manifest(obj), latest_version(), strict=True)


def test_validation_catches_a_broken_object(blackfriday: Run) -> None:
    sts = blackfriday.named("kubernetes:apps/v1:StatefulSet", "postgres-statefulset")
    broken = manifest(sts)
    broken["spec"]["template"]["spec"]["containers"][0]["resources"]["requets"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, latest_version(), strict=True)
