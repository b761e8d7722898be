"""The Pulumi program: read the config once, build the components, export the status.

`pulumi up` deploys the healthy baseline; `pulumi up -c scenario=blackfriday` stages the
outage; `pulumi config rm scenario && pulumi up` restores it (see README, Kubernetes)."""

from __future__ import annotations

import pulumi

from infra import k8s as spec
from infra.components.calibration import CalibrationArgs, CatalogCalibration
from infra.components.collector import CollectorArgs, OtelCollector
from infra.components.coralogix_alert import CoralogixAlertArgs, CoralogixFlowAlert
from infra.components.namespace import Namespace
from infra.components.network import NetworkArgs, NetworkPolicies
from infra.components.postgres import DB_NAME, DB_USER, Postgres, PostgresArgs
from infra.components.prometheus_operator import PrometheusOperatorAlerts, PrometheusOperatorArgs
from infra.components.revert import AutoRevert, AutoRevertArgs
from infra.components.scenario import ScenarioArgs, ScenarioSwitch
from infra.components.seed import CatalogSeed, CatalogSeedArgs
from infra.components.storefront import Storefront, StorefrontArgs
from infra.config import load_config
from infra.outputs import alerts_status, service_config, watch_commands
from scenarios.calibration import Calibration
from scenarios.catalogue import DEFAULT_SCENARIO, get_scenario
from scenarios.scripts import sql_text
from scenarios.timeline import utc

cfg = load_config()
ns = Namespace("namespace", cfg.namespace)
postgres = Postgres("postgres", PostgresArgs(ns.name, cfg.postgres_image, cfg.postgres_storage,
                                                 cfg.postgres_cpu_limit))
db_env = {"DB_HOST": postgres.host, "DB_PORT": str(postgres.port), "DB_NAME": DB_NAME,
          "DB_USER": DB_USER}
calibration: pulumi.Output[str] = pulumi.Output.from_input(cfg.calibration_json)
if not cfg.calibration_json:  # measured in the cluster, once (see infra/components/calibration.py)
    calibration = CatalogCalibration("calibration", CalibrationArgs(
        cfg.namespace, spec.kubectl(cfg.kube_context, cfg.namespace), cfg.calibration_run,
        (cfg.scenario.name if cfg.scenario else DEFAULT_SCENARIO), cfg.image, cfg.image_pull_policy, db_env,
        postgres.password_secret_name, f"PostgreSQL pod, CPU limit {cfg.postgres_cpu_limit} (the kubelet's CFS quota)",
        cfg.catalog_products, cfg.calibration_quick),
        opts=pulumi.ResourceOptions(depends_on=[postgres, ns.resource])).result
measured = calibration.apply(lambda text: Calibration.from_json(text, "the calibration").to_dict())
seed = CatalogSeed("catalog-seed", CatalogSeedArgs(
    ns.name, cfg.image, cfg.image_pull_policy, measured.apply(lambda c: int(c["products"])), db_env,
    postgres.password_secret_name), opts=pulumi.ResourceOptions(depends_on=[postgres]))
NetworkPolicies("network", NetworkArgs(ns.name, exporting=cfg.exporter.kind != "debug",
                                      prometheus_port=cfg.alerts.prometheus_port),
                opts=pulumi.ResourceOptions(depends_on=[ns.resource]))
collector = OtelCollector("otel-collector", CollectorArgs(
    ns.name, cfg.collector_image, cfg.exporter.kind, cfg.exporter.otlp_endpoint,
    cfg.exporter.coralogix_domain, cfg.exporter.credential))

switch = None
if cfg.scenario is not None:
    # One fixed name whatever the scenario: another scenario replaces its commands (restore the
    # old, then break the new) instead of creating a new component beside the old one.
    switch = ScenarioSwitch("scenario", ScenarioArgs(
        cfg.scenario, sql_text(cfg.scenario.break_sql), sql_text(cfg.scenario.restore_sql),
        cfg.namespace, "postgres", "postgres", DB_USER, DB_NAME, cfg.kube_context, cfg.demo_run,
        cfg.demo_lead_seconds),
        opts=pulumi.ResourceOptions(depends_on=[seed]))
start = switch.start_timestamp if switch else None
reverts_at = None
if switch is not None and cfg.scenario is not None:
    ends_after = cfg.scenario.duration_minutes * cfg.demo_minute_seconds + cfg.revert_after_minutes * 60
    reverts_at = switch.start_timestamp.apply(lambda ts: ts + ends_after)
    AutoRevert("auto-revert", AutoRevertArgs(
        ns.name, cfg.postgres_image, sql_text(cfg.scenario.restore_sql), reverts_at, postgres.host,
        postgres.port, DB_USER, DB_NAME, postgres.password_secret_name),
        opts=pulumi.ResourceOptions(depends_on=[switch]))

Storefront("storefront", StorefrontArgs(
    ns.name, cfg.image, cfg.image_pull_policy,
    service_config(cfg, db_env, collector.otlp_http_endpoint, start),
    postgres.password_secret_name, cfg.loadgen_replicas, calibration, reverts_at, cfg.alerts.prometheus_url),
    opts=pulumi.ResourceOptions(depends_on=[seed.job]))

# The alert ships with or without a scenario applied: it fires only under the scenario, and after
# a restore it resolves rather than disappears (components/prometheus_operator.py).
alerted = cfg.scenario or get_scenario(DEFAULT_SCENARIO)
prometheus = coralogix = None
if cfg.alerts.prometheus_operator:
    rules = PrometheusOperatorAlerts("prometheus-operator", PrometheusOperatorArgs(
        alerted, cfg.demo_minute_seconds, cfg.namespace, cfg.alerts.monitoring_namespace,
        cfg.alerts.release_label), opts=pulumi.ResourceOptions(depends_on=[ns.resource]))
    prometheus = (rules.rule_ref, rules.monitor_ref)
if cfg.alerts.coralogix and cfg.alerts.coralogix_api_key is not None:
    flow = CoralogixFlowAlert("coralogix-alert", CoralogixAlertArgs(
        alerted, cfg.demo_minute_seconds, cfg.alerts.coralogix_domain, cfg.alerts.coralogix_api_key,
        {"bfdemo-stack": f"{pulumi.get_project()}/{pulumi.get_stack()}"}))
    coralogix = (flow.flow_name, flow.alert_names)

pulumi.export("scenario", cfg.scenario.name if cfg.scenario else "baseline")
pulumi.export("namespace", ns.name)
pulumi.export("demoStartTimestamp", start)
pulumi.export("timeline", switch.timeline(cfg.demo_minute_seconds) if switch else None)
pulumi.export("revertsAt", reverts_at.apply(lambda ts: utc(ts, 0, 1)) if reverts_at else None)
pulumi.export("droppedIndexes", list(cfg.scenario.dropped_indexes) if cfg.scenario else [])
pulumi.export("calibration", measured)
pulumi.export("watch", watch_commands(cfg))
pulumi.export("alerts", alerts_status(cfg, alerted.name, prometheus, coralogix))
