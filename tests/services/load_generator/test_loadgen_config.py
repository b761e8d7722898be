"""The load generator's settings: a replica index outside 0..N-1 fails at startup."""

from __future__ import annotations

import pytest

from services.load_generator.config import Settings
from services.load_generator.main import create_app


@pytest.mark.parametrize(("replicas", "index"), [(1, 1), (3, 3), (3, 7)])
def test_an_index_outside_the_replicas_fails_at_startup_naming_both(
    replicas: int, index: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on Kubernetes: LOADGEN_REPLICAS from the ConfigMap, the index from the pod's ordinal.
    monkeypatch.setenv("LOADGEN_REPLICAS", str(replicas))
    monkeypatch.setenv("LOADGEN_REPLICA_INDEX", str(index))
    with pytest.raises(ValueError) as err:
        create_app()
    message = str(err.value)
    assert f"LOADGEN_REPLICA_INDEX ({index}) must be below LOADGEN_REPLICAS ({replicas})." \
        in message


@pytest.mark.parametrize(("replicas", "index"), [(1, 0), (3, 0), (3, 2)])
def test_every_index_below_the_replicas_is_accepted(replicas: int, index: int) -> None:
    settings = Settings(loadgen_replicas=replicas, loadgen_replica_index=index)
    assert (settings.loadgen_replicas, settings.loadgen_replica_index) == (replicas, index)


def test_a_missing_pod_index_fails_rather_than_defaulting_to_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before Kubernetes 1.28 the pod-index label is absent and the downward API yields "":
    # every replica would otherwise be index 0 again.
    monkeypatch.setenv("LOADGEN_REPLICAS", "3")
    monkeypatch.setenv("LOADGEN_REPLICA_INDEX", "")
    with pytest.raises(ValueError, match="loadgen_replica_index"):
        Settings()
