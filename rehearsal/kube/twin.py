"""The cluster twin on the real engine: a local cluster (control plane and this machine as its
node, pods as processes), and the Pulumi CLI run as a user types it, on this repository's
program, against it:

    pulumi stack init; pulumi up              the baseline: calibration Job, seed Job, pods
    pulumi up -c scenario=blackfriday         the break, the demo clock
    pulumi stack output                       timeline, calibration, watch
    (the load generator followed to the report, as make demo's)
    pulumi config rm scenario; pulumi up      the restore, checked in the database
    pulumi destroy

The collector's image is stood in for by an OTLP receiver that forwards to this process's own
(rehearsal/kube/collector.py), which keeps the spans for the report and the alert."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rehearsal.cluster import follow_report, judge
from rehearsal.kube.cluster import CONTEXT, LocalCluster
from rehearsal.kube.stack import PulumiStack
from rehearsal.otlp import make_receiver
from rehearsal.runner import RunOptions
from scenarios.catalogue import get_scenario
from services.ports import LOAD_GENERATOR, PORTS

# The stack file's settings this machine cannot take as they are: its own kube context, and the
# services image as the node knows it.
LOCAL = {"kubernetes:context": CONTEXT, "bfdemo:image": "bfdemo-services:dev", "bfdemo:imagePullPolicy": "Never"}


@dataclass(frozen=True)
class TwinOptions:
    stack: Path
    workdir: Path
    report_path: Path
    overrides: dict[str, str] = field(default_factory=dict)  # as `pulumi up -c KEY=VALUE`
    duration_minutes: int | None = None


def stack_config(stack_file: Path, overrides: dict[str, str]) -> tuple[dict[str, str], str]:
    """The stack's config for `pulumi config set` (the scenario left out: `up -c` applies it) and the scenario."""
    config = {k: str(v) for k, v in (yaml.safe_load(stack_file.read_text()).get("config") or {}).items()}
    config.update(LOCAL)
    config.update({(k if ":" in k else f"bfdemo:{k}"): v for k, v in overrides.items()})
    scenario = config.pop("bfdemo:scenario", "")
    return config, scenario


def run_twin(opts: TwinOptions) -> dict[str, Any]:
    opts.workdir.mkdir(parents=True, exist_ok=True)
    config, scenario_name = stack_config(opts.stack, opts.overrides)
    namespace = config.get("bfdemo:namespace", "ecommerce-demo")
    receiver = make_receiver(None, None)
    with LocalCluster(opts.workdir / "cluster", collector_upstream=receiver.endpoint) as cluster:
        stack = PulumiStack(opts.workdir / "pulumi", cluster.env())
        kubectl = f"kubectl --context {CONTEXT} -n {namespace}"
        try:
            stack.init(config)
            print("pulumi up (the baseline) ...", flush=True)
            stack.up()
            print(f"pulumi up -c scenario={scenario_name} ...", flush=True)
            stack.up(f"scenario={scenario_name}")
            outputs = stack.outputs()
            start = float(outputs["demoStartTimestamp"])
            assert cluster.agent is not None
            loadgen = f"http://{cluster.agent.proxy.address(namespace, LOAD_GENERATOR)}:{PORTS[LOAD_GENERATOR]}"
            follow_opts = RunOptions(get_scenario(scenario_name), opts.workdir, float(config["bfdemo:demoMinuteSeconds"]),
                                     opts.report_path, duration_minutes=opts.duration_minutes)
            follow_report(follow_opts, loadgen, receiver, start, {
                "calibration": outputs["calibration"],
                "twin": {"engine": "pulumi CLI, real control plane, pods as processes (rehearsal/kube)",
                         "stack": str(opts.stack), "config": config, "timeline": outputs["timeline"],
                         "stand_ins": cluster.agent.notes(), "pulumi_seconds": stack.timings}})
            print("pulumi config rm scenario && pulumi up (the restore) ...", flush=True)
            stack.run("config", "rm", "bfdemo:scenario")
            stack.up()
            report = judge(opts.report_path, kubectl, cluster.env())
        finally:
            print("pulumi destroy ...", flush=True)
            stack.run("destroy", "--yes", "--skip-preview", check=False)
            receiver.stop()
    report["twin"]["pulumi_seconds"] = stack.timings
    opts.report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report
