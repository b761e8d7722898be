"""A real Prometheus beside the rehearsal (Debian's package): it scrapes every storefront
service's GET /metrics and evaluates the scenario's shipped rules (scenarios/prometheus.py) at
the run's minute length, so the report can say when an alerting engine nobody here wrote first
fired the Flow Alert, beside the project's own evaluation."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from rehearsal.alerts import write_rules
from rehearsal.localpg import free_port
from rehearsal.processes import stop_group, wait_for
from rehearsal.stack import die_with_parent
from scenarios.model import Scenario
from scenarios.panels import annotations_of, panels
from scenarios.prometheus import duration, evaluation_interval
from services.ports import LOAD_GENERATOR


@dataclass
class LocalPrometheus:
    workdir: Path
    scenario: Scenario
    minute_seconds: float
    targets: dict[str, str]  # service name -> host:port
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    rules_file: Path = Path()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _configure(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rules_file = write_rules(self.scenario.name, self.minute_seconds, self.workdir)
        every = duration(evaluation_interval(self.minute_seconds))
        config = {
            "global": {"scrape_interval": every, "evaluation_interval": every},
            "rule_files": [self.rules_file.name],
            "scrape_configs": [{"job_name": name, "static_configs": [{"targets": [address]}]}
                               for name, address in sorted(self.targets.items())],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self) -> LocalPrometheus:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is not installed: make system installs Debian's package")
        config = self._configure()
        with open(self.workdir / "prometheus.log", "ab") as log:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1d"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
        wait_for(self._ready, 30, interval=0.2, what=f"prometheus answering /-/ready (log: {self.workdir})")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}; see {self.workdir / 'prometheus.log'}")
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False  # not listening yet

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc, 10)
            self.proc = None

    def query_range(self, query: str, start: float, end: float) -> list[dict[str, Any]]:
        step = evaluation_interval(self.minute_seconds)
        response = httpx.get(f"{self.url}/api/v1/query_range", timeout=30,
                             params={"query": query, "start": start, "end": end, "step": step})
        response.raise_for_status()
        return list(json.loads(response.text)["data"]["result"])

    def targets_up(self) -> int:
        """How many of the scrape targets answered their last scrape."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": "up == 1"}, timeout=30)
        response.raise_for_status()
        return len(json.loads(response.text)["data"]["result"])

    def first_firing(self, alertname: str, start: float, end: float | None = None) -> float | None:
        """When `alertname` was first firing, in Unix seconds (None: never)."""
        query = f'ALERTS{{alertname="{alertname}",alertstate="firing"}}'
        found = [float(t) for result in self.query_range(query, start, end or time.time())
                 for t, _ in result["values"]]
        return min(found) if found else None

    def first_firing_minute(self, start: float) -> int | None:
        """The demo minute in which Prometheus first reported the scenario's Flow Alert firing."""
        at = self.first_firing(self.scenario.alert.name, start)
        return None if at is None else math.floor((at - start) / self.minute_seconds)


def start_prometheus(workdir: Path, scenario: Scenario, minute_seconds: float,
                     targets: dict[str, str], port: int | None = None) -> LocalPrometheus | None:
    """A started Prometheus, or None where Debian's package is not installed (the report says so).
    `port`: one chosen beforehand, so the load generator's page can be told where to ask."""
    if shutil.which("prometheus") is None:
        return None
    return LocalPrometheus(workdir, scenario, minute_seconds, targets, port or free_port()).start()


def alert_record(prometheus: LocalPrometheus | None, start: float | None) -> dict[str, Any]:
    """What Prometheus saw of the Flow Alert, for the report; stops it."""
    if prometheus is None:
        return {"skipped": "prometheus is not installed (make system installs Debian's package)"}
    try:
        minute = prometheus.first_firing_minute(start) if start is not None else None
        return {"alert": prometheus.scenario.alert.name, "first_minute": minute,
                "targets_up": prometheus.targets_up(), "targets": len(prometheus.targets),
                "rules": str(prometheus.rules_file),
                "scrape_interval_s": evaluation_interval(prometheus.minute_seconds)}
    except httpx.HTTPError as exc:  # said in the report; never in the way of the restore that follows
        return {"alert": prometheus.scenario.alert.name, "error": f"querying prometheus failed: {exc}"}
    finally:
        prometheus.stop()


def _sources(prometheus: LocalPrometheus) -> set[str]:
    """Which processes' metrics this Prometheus has: the storefront's, the load generator's."""
    return {"load-generator" if name == LOAD_GENERATOR else "storefront" for name in prometheus.targets}


def panel_record(prometheus: LocalPrometheus | None, scenario: Scenario, minute_seconds: float,
                 start: float | None) -> dict[str, Any]:
    """How many samples each dashboard panel's queries (scenarios/panels.py) returned over the run:
    a panel with none would stand empty in front of the room. Panels over a process this
    Prometheus does not scrape are named apart, not judged. Run before alert_record, which stops it."""
    if prometheus is None or start is None:
        return {"skipped": "no prometheus ran" if prometheus is None else "the run never started"}
    shown, sources, end = panels(scenario, minute_seconds), _sources(prometheus), time.time()
    try:
        counts = {p.title: [_samples(prometheus, q.expr, start, end) for q in p.queries] for p in shown}
        marks = {a.name: _samples(prometheus, a.expr, start, end) for a in annotations_of(scenario, minute_seconds)}
    except (httpx.HTTPError, KeyError, ValueError) as exc:  # said in the report, never raised before the restore
        return {"error": f"querying prometheus failed: {exc}"}
    judged = [p for p in shown if p.source in sources]
    return {"samples": {title: sum(n) for title, n in counts.items()},
            "all_returned_data": all(all(counts[p.title]) for p in judged),
            "empty": [p.title for p in judged if not all(counts[p.title])],
            "not_scraped": [p.title for p in shown if p.source not in sources],
            "annotations": marks}


def _samples(prometheus: LocalPrometheus, query: str, start: float, end: float) -> int:
    return sum(len(series["values"]) for series in prometheus.query_range(query, start, end))
