"""Run the Pulumi program under mocks: fresh per case (runpy), config set per case, every
registered resource and every stack output recorded for the tests to inspect."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "infra" / "__main__.py"
PROJECT = "bfdemo"
# What the mocked demo-clock command prints: 2025-11-28T14:00:00Z.
CLOCK = 1764338400
CORALOGIX_KEY = "cx-private-key-SECRET-5f1c"
OTLP_HEADER_VALUE = "otlp-header-SECRET-77aa"


def secret_for(name: str) -> str:
    """The mocked result of a RandomPassword: recognisable, so leaks can be searched for."""
    return f"generated-SECRET-{name}"


@dataclass
class Registered:
    typ: str
    name: str
    urn: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    delete_before_replace: bool
    dependencies: list[str]
    parent: str


@dataclass
class Run:
    resources: list[Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, typ: str, name: str) -> Registered:
        found = [r for r in self.of_type(typ) if r.name == name]
        assert len(found) == 1, f"{typ} {name}: found {len(found)}"
        return found[0]

    def k8s_objects(self) -> list[Registered]:
        return [r for r in self.resources if r.typ.startswith("kubernetes:")]

    def secrets(self) -> list[str]:
        """Every secret value this run's program could have leaked."""
        passwords = [secret_for(r.name) for r in self.of_type("random:index/randomPassword:RandomPassword")]
        return [*passwords, CORALOGIX_KEY, OTLP_HEADER_VALUE]


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ.startswith("kubernetes:"):
            # The provider auto-names objects without a name; mimic it (name plus a suffix).
            meta = dict(state.get("metadata") or {})
            meta.setdefault("name", f"{args.name}-0a1b2c3d")
            state["metadata"] = meta
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = secret_for(args.name)
        if args.typ == "command:local:Command":
            state["stdout"] = f"{CLOCK}\n" if args.inputs["create"].startswith("date") else ""
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Also keeps what MockResourceArgs drops: deleteBeforeReplace, dependencies, parent."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().RegisterResource(request)
        self.requests[response.urn] = request
        return response


def unwrap(value: Any) -> Any:
    """Inputs with secret values replaced by the values themselves (the wire wraps them)."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def run_program(config: dict[str, str], secret_keys: tuple[str, ...] = (),
                other_config: dict[str, str] | None = None, preview: bool = False) -> Run:
    """Run infra/__main__.py fresh with the project `config` (and fully qualified
    `other_config` keys, such as kubernetes:context)."""
    settings.ROOT.set(None)  # a fresh root Stack resource for this run
    pulumi.runtime.set_all_config({**{f"{PROJECT}:{k}": v for k, v in config.items()},
                                   **(other_config or {})},
                                  [f"{PROJECT}:{k}" for k in secret_keys])
    mocks = Mocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="demo", preview=preview,
                             monitor=monitor)
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(MAIN), run_name="__main__")))
    resources = []
    for urn, reg in monitor.resources.items():
        req = monitor.requests[urn]
        resources.append(Registered(
            typ=req.type, name=req.name, urn=urn,
            inputs=unwrap(rpc.deserialize_properties(req.object)),
            state=dict(reg.state),
            delete_before_replace=req.deleteBeforeReplace, dependencies=list(req.dependencies),
            parent=req.parent))
    outputs, secret_outputs = {}, set()
    stack = settings.get_root_resource()
    for key, value in stack.outputs.items():  # type: ignore[union-attr]
        out = pulumi.Output.from_input(value)
        outputs[key] = _sync_await(out.future())
        if _sync_await(out.is_secret()):
            secret_outputs.add(key)
    return Run(resources, outputs, secret_outputs)


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
