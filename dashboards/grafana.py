"""The scenario's dashboard as Grafana's import-ready JSON, built with Grafana's own Python
builder (grafana-foundation-sdk, Grafana 11.6's models) from the panels in scenarios/panels.py.

Every query goes to a `${datasource}` variable of type Prometheus, so the one file imports into
any Grafana whatever its Prometheus is called. The uid is the scenario's, so importing a newer
rendering replaces the dashboard instead of adding a second one."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from scenarios.model import Scenario
from scenarios.panels import Annotation, Panel, annotations_of, panels
from scenarios.prometheus import duration, evaluation_interval

DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
UNITS = {"ms": "ms", "ratio": "percentunit", "USD": "currencyUSD", "count": "short"}
# Grid cells (24 columns): a stat is a third of a row, a time series half of one.
SIZES = {"stat": (8, 4), "timeseries": (12, 8)}
GRID_COLUMNS = 24
MIN_REFRESH_SECONDS = 5.0  # Grafana's default min_refresh_interval: a shorter refresh is raised to it


def uid(scenario: Scenario) -> str:
    return f"bfdemo-{scenario.name}"[:40]  # Grafana's uid limit


def layout(sizes: list[tuple[int, int]]) -> list[models.GridPos]:
    """Left to right, a new row when the next panel would not fit: no two panels overlap."""
    x = y = row_height = 0
    placed = []
    for w, h in sizes:
        if x + w > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append(models.GridPos(h=h, w=w, x=x, y=y))
        x, row_height = x + w, max(row_height, h)
    return placed


def _thresholds(panel: Panel) -> builders.ThresholdsConfig:
    # Green below the alert's line, red above it: the room reads the colour, not the number.
    steps = [models.Threshold(None, "green"), *(models.Threshold(v, "red") for v in panel.thresholds)]
    return builders.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps)


def _targets(panel: Panel) -> list[prometheus.Dataquery]:
    return [prometheus.Dataquery().expr(q.expr).legend_format(q.legend).ref_id(chr(ord("A") + i))
            .datasource(DATASOURCE).range() for i, q in enumerate(panel.queries)]


def _panel(panel: Panel, position: models.GridPos) -> stat.Panel | timeseries.Panel:
    built: stat.Panel | timeseries.Panel
    if panel.kind == "stat":
        built = (stat.Panel().graph_mode(common.BigValueGraphMode.AREA)
                 .color_mode(common.BigValueColorMode.BACKGROUND)
                 .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"])))
    else:
        built = timeseries.Panel().line_width(2).fill_opacity(10)
        if panel.thresholds:  # the alert's line drawn across the graph
            built = built.thresholds_style(common_builders.GraphThresholdsStyleConfig()
                                           .mode(common.GraphThresholdsStyleMode.DASHED))
    built = (built.title(panel.title).description(panel.description).unit(UNITS[panel.unit])
             .datasource(DATASOURCE).grid_pos(position).thresholds(_thresholds(panel)))
    for target in _targets(panel):
        built = built.with_target(target)
    return built


def _annotation(annotation: Annotation) -> builders.AnnotationQuery:
    return (builders.AnnotationQuery().name(annotation.name).datasource(DATASOURCE).enable(True)
            .icon_color(annotation.color).expr(annotation.expr))


def _annotation_extras(scenario: Scenario, minute_seconds: float) -> dict[str, dict[str, Any]]:
    # Grafana's Prometheus annotation also reads these; the builder's model has no field for them.
    step = duration(evaluation_interval(minute_seconds))
    return {a.name: {"step": step, "titleFormat": a.title, "tagKeys": "demo_kind", "textFormat": a.name,
                     "useValueForTime": False} for a in annotations_of(scenario, minute_seconds)}


def _builder(scenario: Scenario, minute_seconds: float) -> builders.Dashboard:
    shown = panels(scenario, minute_seconds)
    board = (builders.Dashboard(f"Black Friday outage: {scenario.name} ({minute_seconds:g} s demo minutes)")
             .uid(uid(scenario)).description(scenario.description).tags(["bfdemo", scenario.name])
             .refresh(duration(max(MIN_REFRESH_SECONDS, evaluation_interval(minute_seconds))))
             .time(f"now-{_span(scenario, minute_seconds)}", "now")
             .timezone(common.TimeZoneBrowser).editable()
             .with_variable(builders.DatasourceVariable("datasource").label("Prometheus").type("prometheus")))
    for panel, position in zip(shown, layout([SIZES[p.kind] for p in shown]), strict=True):
        board = board.with_panel(_panel(panel, position))
    for annotation in annotations_of(scenario, minute_seconds):
        board = board.annotation(_annotation(annotation))
    return board


def _span(scenario: Scenario, minute_seconds: float) -> str:
    """The whole timeline, so the room sees the outage build from minute 0."""
    return duration(scenario.duration_minutes * minute_seconds)


def dashboard(scenario: Scenario, minute_seconds: float) -> dict[str, Any]:
    """`scenario`'s dashboard at `minute_seconds` per demo minute, as Grafana imports it."""
    data: dict[str, Any] = json.loads(JSONEncoder().encode(_builder(scenario, minute_seconds).build()))
    extras = _annotation_extras(scenario, minute_seconds)
    for annotation in data["annotations"]["list"]:
        annotation.update(extras.get(annotation["name"], {}))
    for number, panel in enumerate(data["panels"], start=1):
        panel["id"] = number  # Grafana links and edits panels by id
    return data


def dashboard_text(scenario: Scenario, minute_seconds: float) -> str:
    return json.dumps(dashboard(scenario, minute_seconds), indent=2, sort_keys=True) + "\n"
