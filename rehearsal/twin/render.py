"""The Pulumi program rendered without a cluster or the `pulumi` CLI: run fresh under Pulumi's
mocks, by its path as the engine runs it, with a stack's config; every registered resource and
stack output recorded. The tests inspect what it renders, `make lint` scans it, and the twin
runs it."""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from scenarios.calibration import Calibration

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "infra" / "__main__.py"
PROJECT = "bfdemo"


# What the calibration Command reads from its Job under mocks, unless a run supplies a measured one.
MOCK_CALIBRATION = Calibration(products=1_000_000, catalog_capacity_qps=10.0, lock_throughput_per_s=1.0,
                               measured_at="never: Pulumi mocks", machine="none", database_cpu="none",
                               scenario="blackfriday")


def generated_secret(name: str) -> str:
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
    ignore_changes: list[str] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        """A Kubernetes object as the provider would send it: inputs plus the generated name."""
        body = _ints(dict(self.inputs))
        body["metadata"] = {**body.get("metadata", {}), "name": self.state["metadata"]["name"]}
        return body


@dataclass
class Run:
    resources: list[Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    secret_config: list[str] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, typ: str, name: str) -> Registered:
        found = [r for r in self.of_type(typ) if r.name == name]
        assert len(found) == 1, f"{typ} {name}: found {len(found)}"
        return found[0]

    def k8s_objects(self) -> list[Registered]:
        return [r for r in self.resources if r.typ.startswith("kubernetes:")]

    def secrets(self) -> list[str]:
        """Every secret value this run's program could leak: generated ones and secret config."""
        passwords = [generated_secret(r.name) for r in self.of_type("pulumi-python:dynamic/password:Password")]
        return [*passwords, *self.secret_config]


def _ints(value: Any) -> Any:
    # The mock monitor turns every number into a float; the API wants integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


class Mocks(pulumi.runtime.Mocks):
    """Providers' answers: Kubernetes auto-names, generated passwords, the Commands' stdout
    (the clock's, the calibration's)."""

    def __init__(self, clock: Callable[[], int], calibration: str) -> None:
        self.clock = clock
        self.calibration = calibration

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ.startswith("kubernetes:"):
            # The provider auto-names objects without a name; mimic it (name plus a suffix).
            meta = dict(state.get("metadata") or {})
            meta.setdefault("name", f"{args.name}-0a1b2c3d")
            state["metadata"] = meta
        if args.typ == "pulumi-python:dynamic/password:Password":
            state["result"] = generated_secret(args.name)
        if args.typ == "pulumi-python:dynamic/command:Command":
            state["stdout"] = ""
            if args.name.endswith("demo-clock"):
                state["stdout"] = f"{self.clock()}\n"
            if args.name.endswith("calibration-result"):
                state["stdout"] = self.calibration
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


def render(config: dict[str, str], secret_keys: tuple[str, ...] = (), other_config: dict[str, str] | None = None,
           *, preview: bool = False, clock: Callable[[], int] = lambda: 1764338400,
           known_secrets: tuple[str, ...] = (), calibration: str = "") -> Run:
    """Run infra/__main__.py fresh with the project `config` (and fully qualified
    `other_config` keys, such as kubernetes:context). `clock` is what the demo clock's command
    prints (default 2025-11-28T14:00:00Z), `calibration` what the calibration Job printed
    (default MOCK_CALIBRATION); `known_secrets` are searched for as leaks too (say,
    a value inside a secret JSON config)."""
    _event_loop()
    settings.ROOT.set(None)  # a fresh root Stack resource for this run
    pulumi.runtime.set_all_config({**{f"{PROJECT}:{k}": v for k, v in config.items()}, **(other_config or {})},
                                  [f"{PROJECT}:{k}" for k in secret_keys])
    mocks = Mocks(clock, calibration or json.dumps(MOCK_CALIBRATION.to_dict()))
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="demo", preview=preview, monitor=monitor)

    def program() -> None:
        runpy.run_path(str(MAIN), run_name="__main__")

    _sync_await(run_pulumi_func(program))
    resources = []
    for urn, reg in monitor.resources.items():
        req = monitor.requests[urn]
        resources.append(Registered(
            typ=req.type, name=req.name, urn=urn, inputs=unwrap(rpc.deserialize_properties(req.object)),
            state=dict(reg.state), delete_before_replace=req.deleteBeforeReplace,
            dependencies=list(req.dependencies), parent=req.parent, ignore_changes=list(req.ignoreChanges)))
    outputs, secret_outputs = {}, set()
    stack = settings.get_root_resource()
    for key, value in stack.outputs.items():  # type: ignore[union-attr]
        out = pulumi.Output.from_input(value)
        outputs[key] = _sync_await(out.future())
        if _sync_await(out.is_secret()):
            secret_outputs.add(key)
    return Run(resources, outputs, secret_outputs, [*(config[k] for k in secret_keys), *known_secrets])


def _event_loop() -> None:
    """Pulumi's runtime awaits on the thread's current loop; an earlier asyncio.run() in this
    process (a test, the rehearsal) leaves none set."""
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


def write_manifests(run: Run, directory: Path) -> list[Path]:
    """Every Kubernetes object of `run` as a file (JSON, which is YAML), for scanners."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, obj in enumerate(run.k8s_objects()):
        body = obj.manifest()
        path = directory / f"{i:02d}-{body['kind'].lower()}-{body['metadata']['name']}.yaml"
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def stack_config(path: Path, overrides: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A Pulumi stack file's config, as (project keys, other fully qualified keys), with
    `overrides` (project keys) on top, as `pulumi up -c KEY=VALUE` sets them."""
    import yaml

    entries = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    encrypted = sorted(k for k, v in entries.items() if isinstance(v, dict) and "secure" in v)
    if encrypted:
        raise ValueError(f"{path} holds encrypted values ({', '.join(encrypted)}): pass them with -c")
    project = {k.split(":", 1)[1]: str(v) for k, v in entries.items() if k.startswith(f"{PROJECT}:")}
    other = {k: str(v) for k, v in entries.items() if not k.startswith(f"{PROJECT}:")}
    return {**project, **overrides}, other


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rehearsal.twin.render", description=__doc__)
    parser.add_argument("--stack", type=Path, default=ROOT / "Pulumi.demo.yaml")
    parser.add_argument("-c", dest="config", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True, help="directory for the manifests")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.config)
    project, other = stack_config(args.stack, overrides)
    paths = write_manifests(render(project, other_config=other), args.out)
    print(f"{len(paths)} Kubernetes objects rendered from {args.stack.name} into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
