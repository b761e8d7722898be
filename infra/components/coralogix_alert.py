"""The scenario's Flow Alert in Coralogix: the two metric alerts over the services' metrics and
the flow over them (scenarios/coralogix.py), created and deleted by the dynamic provider in
infra/dynamic/coralogix.py with an alert-management API key (not the send-data key)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.dynamic.coralogix import CoralogixAlerts
from infra.options import child_options
from scenarios.coralogix import api_base, flow_alert, metric_alerts
from scenarios.model import Scenario


@dataclass(frozen=True)
class CoralogixAlertArgs:
    scenario: Scenario
    minute_seconds: int
    domain: str
    api_key: pulumi.Output[str]  # secret
    # Added to every alert's entityLabels: which stack made it, for a shared Coralogix team.
    labels: dict[str, str]


class CoralogixFlowAlert(pulumi.ComponentResource):
    def __init__(self, name: str, args: CoralogixAlertArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bfdemo:coralogix:FlowAlert", name, None, opts)
        alerts = metric_alerts(args.scenario, args.minute_seconds, args.labels)
        # The flow's ids are filled in by the provider once the two alerts exist.
        flow = flow_alert(args.scenario, args.minute_seconds, [], args.labels)
        self.flow_name = str(flow["name"])
        self.alert_names = [str(a["name"]) for a in alerts]
        self.url = api_base(args.domain)
        self.alerts = CoralogixAlerts(f"{name}-definitions", url=self.url, api_key=args.api_key,
                                      alerts=alerts, flow=flow, opts=child_options(self, opts))
        self.register_outputs({"flowAlert": self.flow_name, "alerts": self.alert_names,
                               "ids": self.alerts.ids})
