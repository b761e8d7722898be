"""Values the program derives from the config: the services' ConfigMap data and the
presenter's `watch` commands. Pure functions, so the tests can read them directly."""

from __future__ import annotations

import pulumi

from infra import k8s as spec
from infra.config import StackConfig


def service_config(cfg: StackConfig, db_env: dict[str, str], otlp_endpoint: str,
                   start: pulumi.Output[int] | None) -> dict[str, pulumi.Input[str]]:
    """The services' ConfigMap: DB_* (no password), the scenario's values, the demo clock and
    the collector endpoint. DEMO_START_TIMESTAMP is set only while a scenario is active: the
    services treat its absence as 'no demo clock'. The clock is the one value only the apply
    knows: it stays an output of its own, so a preview shows every other value's change (a map
    made as a whole from the clock showed every value as removed)."""
    from scenarios.catalogue import SCENARIOS

    # Every key any scenario changes is written, at its baseline value unless the active
    # scenario sets it: leaving a scenario resets all of its keys.
    values = {k: v for s in SCENARIOS.values()
              for k, v in s.config_values(scenario_active=False).items()}
    if cfg.scenario is not None:
        values.update(cfg.scenario.config_values(scenario_active=True))
    data = {
        **db_env,
        **values,
        "DEMO_MINUTE_SECONDS": str(cfg.demo_minute_seconds),
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    }
    if start is None:
        return dict(data)
    return {**data, "DEMO_START_TIMESTAMP": start.apply(str)}


def watch_commands(cfg: StackConfig) -> dict[str, str]:
    """How the presenter follows the demo. Commands only: no token or key is printed."""
    kc = spec.kubectl(cfg.kube_context, cfg.namespace)
    return {
        "demoStatus": (f"{kc} port-forward svc/load-generator 8010:8010 & "
                       "sleep 2; curl -s localhost:8010/admin/demo-status"),
        "collector": f"{kc} logs -f deploy/otel-collector",
        "pods": f"{kc} get pods -w",
        # \d lists a table's indexes by the table, whatever their names (idx_products_*).
        "indexes": (f"{kc} exec statefulset/postgres -c postgres -- "
                    "psql -U ecommerce_user -d ecommerce -c '\\d products'"),
        "plan": "bfdemo plan " + (cfg.scenario.name if cfg.scenario
                                               else "blackfriday"),
    }


def alerts_status(cfg: StackConfig, scenario: str, prometheus: tuple[str, str] | None,
                  coralogix: tuple[str, list[str]] | None) -> dict[str, object]:
    """What the stack created for the scenario's alert, and where; plain (no key, no id that
    needs one). `prometheus` is (rule, monitor) as namespace/name, `coralogix` (flow, alerts)."""
    minute = cfg.demo_minute_seconds
    status: dict[str, object] = {
        "scenario": scenario,
        "prometheusRule": prometheus[0] if prometheus else None,
        "serviceMonitor": prometheus[1] if prometheus else None,
        "coralogix": {"flowAlert": coralogix[0], "alerts": coralogix[1],
                      "domain": cfg.alerts.coralogix_domain} if coralogix else None,
        "files": (f"bfdemo alerts --scenario {scenario} --minute-seconds {minute} --out alerts/ writes "
                  "the same rules as a Prometheus rules file, and the Grafana dashboard, for any other Prometheus"),
    }
    enable = []
    if prometheus is None:
        enable.append("pulumi config set prometheusOperator true (a cluster with the Prometheus operator)")
    if coralogix is None:
        enable.append("pulumi config set coralogixAlerts true && pulumi config set --secret coralogixApiKey "
                      "<a key with the Alerts role preset> (Coralogix)")
    return {**status, "enable": enable}
