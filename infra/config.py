"""The stack's configuration, read once into a typed object that the components consume.

Pulumi.yaml declares every key with its type, default and description. The defaults are read
from that file, so each is written once; under unit-test mocks the engine does not inject
them, and this way the program behaves the same there as under `pulumi up`."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml

from scenarios.calibration import Calibration, CalibrationError
from scenarios.catalogue import get_scenario
from scenarios.model import Scenario

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"
EXPORTERS = ("debug", "otlp", "coralogix")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROBES = ("full", "quick")
FLAGS = ("true", "false")
# calibrationRun names a Job (calibration-<run>): a DNS label, short enough for the pod's name.
RUN_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?")


class ConfigError(pulumi.RunError):
    """A config value the program cannot run with. RunError makes Pulumi print the message
    alone, without a Python traceback, and fail the preview."""


@cache
def schema() -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(PROJECT_FILE.read_text())["config"])


@dataclass(frozen=True)
class ExporterConfig:
    kind: str
    otlp_endpoint: str
    coralogix_domain: str
    # The Coralogix private key, or the OTLP headers as a JSON object; always a secret Output.
    credential: pulumi.Output[str] | None


@dataclass(frozen=True)
class AlertsConfig:
    """Where the scenario's alert ships besides `bfdemo alerts`' files (both off by default)."""

    coralogix: bool
    coralogix_domain: str
    # An alert-management API key (Alerts role preset), a secret Output; set when coralogix is.
    coralogix_api_key: pulumi.Output[str] | None
    prometheus_operator: bool
    monitoring_namespace: str
    release_label: str
    # Where the presenter page asks for the alert's state; "" when nowhere.
    prometheus_url: str = ""

    @property
    def prometheus_port(self) -> int | None:
        if not self.prometheus_url:
            return None
        parsed = urllib.parse.urlsplit(self.prometheus_url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)


@dataclass(frozen=True)
class StackConfig:
    namespace: str
    scenario: Scenario | None
    demo_minute_seconds: int
    demo_run: str
    demo_lead_seconds: int
    revert_after_minutes: int
    image: str
    image_pull_policy: str
    postgres_image: str
    postgres_storage: str
    postgres_cpu_limit: str
    catalog_products: int  # 0: calibration sizes the catalog
    calibration_json: str  # the explicit override; empty: the calibration Job measures
    calibration_run: str
    calibration_quick: bool
    loadgen_replicas: int
    collector_image: str
    exporter: ExporterConfig
    alerts: AlertsConfig
    # The kubectl context of the scenario commands: the same one the Kubernetes provider uses.
    kube_context: str


class _Reader:
    def __init__(self) -> None:
        self._cfg = pulumi.Config()

    def text(self, key: str) -> str:
        value = self._cfg.get(key)
        if value is not None:
            return value
        default = schema()[key]["default"]
        # As the CLI writes a boolean: true, false.
        return str(default).lower() if isinstance(default, bool) else str(default)

    def integer(self, key: str, minimum: int) -> int:
        raw = self.text(key)
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"config key '{key}' must be an integer, got '{raw}'") from None
        if value < minimum:
            raise ConfigError(f"config key '{key}' must be at least {minimum}, got {value}")
        return value

    def cpu(self, key: str) -> str:
        """A CPU quantity as Kubernetes writes it: whole or decimal CPUs, or millicores."""
        value = self.text(key)
        if not re.fullmatch(r"(\d+(\.\d+)?|\d+m)", value) or float(value.rstrip("m")) == 0:
            raise ConfigError(f"config key '{key}' is '{value}'; allowed values: a CPU quantity above "
                              "zero such as 1, 1.5 or 500m")
        return value

    def run_name(self, key: str) -> str:
        value = self.text(key)
        if not RUN_NAME.fullmatch(value):
            raise ConfigError(f"config key '{key}' is '{value}'; allowed values: 1 to 30 lowercase letters, "
                              "digits and dashes, starting and ending with a letter or digit (it names a Job)")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise ConfigError(
                f"config key '{key}' is '{value}'; allowed values: {', '.join(allowed)}"
            )
        return value

    def secret(self, key: str) -> pulumi.Output[str] | None:
        return self._cfg.get_secret(key) if self._cfg.get(key) else None


def _scenario(name: str) -> Scenario | None:
    if not name:
        return None
    try:
        return get_scenario(name)
    except KeyError as err:
        raise ConfigError(
            f"config key 'scenario': {err.args[0]} (or leave it unset for the baseline)"
        ) from None


def _calibration(raw: str) -> str:
    if not raw:
        return ""
    try:
        Calibration.from_json(raw, "config key 'calibration'")
    except CalibrationError as err:
        raise ConfigError(str(err)) from None
    return raw


def _products(value: int) -> int:
    if 0 < value < 10:
        raise ConfigError(f"config key 'catalogProducts' is {value}; allowed values: 0 (calibration sizes the "
                          "catalog) or at least 10")
    return value


def _exporter(r: _Reader) -> ExporterConfig:
    kind = r.choice("exporter", EXPORTERS)
    credential = None
    if kind == "coralogix":
        credential = r.secret("coralogixPrivateKey")
        if credential is None:
            raise ConfigError("exporter 'coralogix' needs the secret config key "
                              "'coralogixPrivateKey' (pulumi config set --secret)")
    if kind == "otlp":
        if not r.text("otlpEndpoint"):
            raise ConfigError("exporter 'otlp' needs config key 'otlpEndpoint'")
        credential = r.secret("otlpHeaders")
    return ExporterConfig(kind, r.text("otlpEndpoint"), r.text("coralogixDomain"), credential)


def _alerts(r: _Reader, exporter: str) -> AlertsConfig:
    coralogix = r.choice("coralogixAlerts", FLAGS) == "true"
    api_key = r.secret("coralogixApiKey")
    if coralogix and exporter != "coralogix":
        pulumi.log.warn(f"coralogixAlerts is true but exporter is '{exporter}': the alerts read the services' "
                        "metrics in Coralogix, which only exporter 'coralogix' sends there (or an otlp endpoint "
                        "of Coralogix's)")
    if coralogix and api_key is None:
        raise ConfigError("config key 'coralogixAlerts' is true: it needs the secret config key "
                          "'coralogixApiKey', a Coralogix API key with the Alerts role preset (not the "
                          "Send-Your-Data key): pulumi config set --secret coralogixApiKey <key>, or "
                          "pulumi config set coralogixAlerts false")
    operator, monitoring = r.choice("prometheusOperator", FLAGS) == "true", r.text("monitoringNamespace")
    url = r.text("prometheusUrl").strip()
    if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"config key 'prometheusUrl' is '{url}': give a Prometheus HTTP API address "
                          "starting with http:// or https://, or leave it empty")
    if not url and operator:
        url = f"http://prometheus-operated.{monitoring}.svc:9090"  # the operator's governing Service
    return AlertsConfig(coralogix, r.text("coralogixDomain"), api_key if coralogix else None,
                        operator, monitoring, r.text("prometheusReleaseLabel"), url)


def load_config() -> StackConfig:
    r = _Reader()
    exporter = _exporter(r)
    return StackConfig(
        namespace=r.text("namespace"),
        scenario=_scenario(r.text("scenario")),
        demo_minute_seconds=r.integer("demoMinuteSeconds", 1),
        demo_run=r.text("demoRun"),
        demo_lead_seconds=r.integer("demoLeadSeconds", 0),
        revert_after_minutes=r.integer("revertAfterMinutes", 0),
        image=r.text("image"),
        image_pull_policy=r.choice("imagePullPolicy", PULL_POLICIES),
        postgres_image=r.text("postgresImage"),
        postgres_storage=r.text("postgresStorage"),
        postgres_cpu_limit=r.cpu("postgresCpuLimit"),
        catalog_products=_products(r.integer("catalogProducts", 0)),
        calibration_json=_calibration(r.text("calibration")),
        calibration_run=r.run_name("calibrationRun"),
        calibration_quick=r.choice("calibrationProbe", PROBES) == "quick",
        loadgen_replicas=r.integer("loadgenReplicas", 1),
        collector_image=r.text("collectorImage"),
        exporter=exporter,
        alerts=_alerts(r, exporter.kind),
        kube_context=pulumi.Config("kubernetes").get("context") or "",
    )
