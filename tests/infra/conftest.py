"""The Pulumi program rendered under mocks (rehearsal.twin.render), once per stack config the
tests inspect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rehearsal.twin.render import ROOT, Registered, Run, render

__all__ = ["ROOT", "Registered", "Run", "run_program"]

# What the mocked demo-clock command prints: 2025-11-28T14:00:00Z.
CLOCK = 1764338400
CORALOGIX_KEY = "cx-private-key-SECRET-5f1c"
OTLP_HEADER_VALUE = "otlp-header-SECRET-77aa"


def run_program(config: dict[str, str], secret_keys: tuple[str, ...] = (),
                other_config: dict[str, str] | None = None, preview: bool = False) -> Run:
    return render(config, secret_keys, other_config, preview=preview, clock=lambda: CLOCK,
                  known_secrets=(CORALOGIX_KEY, OTLP_HEADER_VALUE))


@pytest.fixture(scope="session")
def baseline() -> Run:
    return run_program({})


@pytest.fixture(scope="session")
def blackfriday() -> Run:
    return run_program({"scenario": "blackfriday"})


@pytest.fixture(scope="session")
def coralogix() -> Run:
    return run_program({"scenario": "blackfriday", "exporter": "coralogix",
                        "coralogixPrivateKey": CORALOGIX_KEY}, secret_keys=("coralogixPrivateKey",))


@pytest.fixture(scope="session")
def otlp() -> Run:
    return run_program({"exporter": "otlp", "otlpEndpoint": "https://otlp.example.com:4318",
                        "otlpHeaders": f'{{"api-key": "{OTLP_HEADER_VALUE}"}}'},
                       secret_keys=("otlpHeaders",))


@pytest.fixture(scope="session")
def all_runs(baseline: Run, blackfriday: Run, coralogix: Run, otlp: Run) -> dict[str, Run]:
    return {"baseline": baseline, "blackfriday": blackfriday, "coralogix": coralogix,
            "otlp": otlp}


def walk(value: Any) -> Iterator[Any]:
    """Every leaf of a nested structure of dicts and lists."""
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from walk(v)
    else:
        yield value
