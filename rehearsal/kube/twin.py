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

import argparse
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rehearsal.cluster import follow_report, judge, pod_psql
from rehearsal.console import verdict
from rehearsal.kube.cluster import CONTEXT, LocalCluster
from rehearsal.kube.stack import ROOT, PulumiStack
from rehearsal.otlp import OtlpReceiver, make_receiver
from rehearsal.prometheus import alert_record, panel_record, start_prometheus
from rehearsal.runner import RunOptions
from scenarios.catalogue import get_scenario
from services.ports import LOAD_GENERATOR, PORTS, STOREFRONT

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


@dataclass
class Deployment:
    """A stack on a local cluster whose collector forwards to `receiver`: the steps `make twin`
    and the lifecycle suite share (the suite plays a few minutes between its other commands)."""

    cluster: LocalCluster
    stack: PulumiStack
    receiver: OtlpReceiver
    config: dict[str, str]
    report_path: Path

    @property
    def namespace(self) -> str:
        return self.config.get("bfdemo:namespace", "ecommerce-demo")

    @property
    def kubectl(self) -> str:
        return f"kubectl --context {CONTEXT} -n {self.namespace}"

    def play(self, scenario_name: str, duration_minutes: int | None, source: Path) -> dict[str, Any]:
        """The applied scenario followed from its stamped clock to the report (restore pending)."""
        outputs = self.stack.outputs()
        start = float(outputs["demoStartTimestamp"])
        # `up` returns once the pods rolled: after minute 0, a generator joins late.
        ready_after = round(time.time() - start, 1)
        agent = self.cluster.agent
        assert agent is not None
        loadgen = f"http://{agent.proxy.address(self.namespace, LOAD_GENERATOR)}:{PORTS[LOAD_GENERATOR]}"
        print(f"Live page for the room: {loadgen}/ (on a cluster: the `watch` output's port-forward)", flush=True)
        scenario, minute_seconds = get_scenario(scenario_name), float(self.config["bfdemo:demoMinuteSeconds"])
        follow_opts = RunOptions(scenario, self.report_path.parent, minute_seconds, self.report_path,
                                 duration_minutes=duration_minutes)
        # Prometheus scrapes each Service's address on the node, as the stack's ServiceMonitor
        # would (components/prometheus_operator.py): the storefront and the load generator.
        targets = {name: f"{agent.proxy.address(self.namespace, name)}:{PORTS[name]}"
                   for name in (*STOREFRONT, LOAD_GENERATOR)}
        prometheus = start_prometheus(self.report_path.parent / "prometheus", scenario, minute_seconds, targets)
        try:
            report = follow_report(follow_opts, loadgen, self.receiver, start, {
                "calibration": outputs["calibration"],
                "twin": {
                    "engine": "pulumi CLI, real control plane, pods as processes (rehearsal/kube)",
                    "stack": str(source),
                    "config": self.config,
                    "timeline": outputs["timeline"],
                    "stand_ins": agent.notes(),
                    "pods_ready_s_after_minute_0": ready_after,
                    "pulumi_seconds": self.stack.timings,
                },
            })
        finally:
            panels = panel_record(prometheus, scenario, minute_seconds, start)  # before alert_record stops it
            alerting = {**alert_record(prometheus, start), "panels": panels}
        report["prometheus"] = alerting
        self.report_path.write_text(json.dumps(report, indent=2) + "\n")
        return report

    def judge(self) -> dict[str, Any]:
        """The report judged after the restore: the database read in its pod, the node's facts."""
        agent = self.cluster.agent
        assert agent is not None
        report = judge(self.report_path, self.kubectl, self.cluster.env())
        report["twin"].update({
            "cpu_limits": agent.limits(),
            "logs": str(self.cluster.node_root / "pods"),
            "calibration_leftovers": calibration_leftovers(self.kubectl, self.cluster.env()),
        })
        self.report_path.write_text(json.dumps(report, indent=2) + "\n")
        return report


def run_twin(opts: TwinOptions) -> dict[str, Any]:
    opts.workdir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(opts.workdir / "pulumi", ignore_errors=True)  # a throwaway backend, each run its own
    config, scenario_name = stack_config(opts.stack, opts.overrides)
    receiver = make_receiver(None, None)
    with LocalCluster(opts.workdir / "cluster", collector_upstream=receiver.endpoint) as cluster:
        stack = PulumiStack(opts.workdir / "pulumi", cluster.env())
        deployment = Deployment(cluster, stack, receiver, config, opts.report_path)
        try:
            stack.init(config)
            print("pulumi up (the baseline) ...", flush=True)
            stack.up()
            print(f"pulumi up -c scenario={scenario_name} ...", flush=True)
            stack.up(f"scenario={scenario_name}")
            deployment.play(scenario_name, opts.duration_minutes, opts.stack)
            print("pulumi config rm scenario && pulumi up (the restore) ...", flush=True)
            stack.run("config", "rm", "bfdemo:scenario")
            stack.up()
            report = deployment.judge()
        finally:
            print("pulumi destroy ...", flush=True)
            stack.run("destroy", "--yes", "--skip-preview", check=False)
            receiver.stop()
    report["twin"]["pulumi_seconds"] = stack.timings
    opts.report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


LEFTOVERS_SQL = """SELECT json_build_object(
  'databases', (SELECT coalesce(json_agg(datname), '[]') FROM pg_database WHERE datname LIKE '%\\_calibration'),
  'orders', (SELECT count(*) FROM orders WHERE customer_id LIKE 'calibration-%'));
"""


def calibration_leftovers(kubectl: str, env: dict[str, str]) -> dict[str, Any]:
    """What calibration could have left behind: its database, its orders in the demo's (read in the pod)."""
    return dict(json.loads(pod_psql(kubectl, LEFTOVERS_SQL, env).splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bfdemo twin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", type=Path, default=ROOT / "Pulumi.demo.yaml")
    parser.add_argument(
        "-c",
        dest="config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="stack config on top of the file (default: scenario=blackfriday, demoMinuteSeconds=10)",
    )
    parser.add_argument("--minutes", type=int, default=None, help="stop after this many demo minutes")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TWIN_WORKDIR", ".twin")))
    args = parser.parse_args(argv)
    overrides = {
        "scenario": "blackfriday",
        "demoMinuteSeconds": os.environ.get("DEMO_MINUTE_SECONDS", "10"),
        **dict(item.split("=", 1) for item in args.config),
    }
    report = Path(os.environ.get("DEMO_REPORT") or args.workdir / "report.json").resolve()
    print(f"Twin of {args.stack.name} with {overrides}; report: {report}", flush=True)
    result = run_twin(TwinOptions(args.stack, args.workdir.resolve(), report, overrides, duration_minutes=args.minutes))
    return verdict(result)


if __name__ == "__main__":
    raise SystemExit(main())
