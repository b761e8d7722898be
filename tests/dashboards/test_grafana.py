"""The scenario's Grafana dashboard, checked offline as far as Grafana's schema goes (its own
builder's models read it back; every panel is on the grid, queries the datasource variable and
has a query), and every expression it holds accepted by a real Prometheus' parser."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel

from dashboards.grafana import dashboard, dashboard_text, uid
from rehearsal.prometheus import LocalPrometheus
from scenarios.catalogue import SCENARIOS, get_scenario
from scenarios.panels import annotations_of, panels
from scenarios.prometheus import expressions
from tests.scenarios.test_prometheus import promtool

MINUTES = (6.0, 10.0, 60.0)  # the demo minute lengths the stack is run at
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


@pytest.fixture(params=MINUTES, ids=lambda s: f"{s:g}s")
def board(request) -> dict[str, Any]:
    return dashboard(get_scenario("blackfriday"), request.param)


def _cells(panel: dict[str, Any]) -> set[tuple[int, int]]:
    g = panel["gridPos"]
    return set(itertools.product(range(g["x"], g["x"] + g["w"]), range(g["y"], g["y"] + g["h"])))


def test_every_panel_queries_the_datasource_variable_and_sits_on_the_grid(board) -> None:
    variables = board["templating"]["list"]
    assert [(v["name"], v["type"], v["query"]) for v in variables] == [("datasource", "datasource", "prometheus")]
    assert len(board["panels"]) == len(panels(get_scenario("blackfriday"), 10))
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        assert panel["type"] in ("timeseries", "stat") and panel["title"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"] and all(t["expr"] and t["datasource"] == DATASOURCE for t in panel["targets"])
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert not taken & _cells(panel), f"{panel['title']} overlaps another panel"
        taken |= _cells(panel)
    assert sorted(p["id"] for p in board["panels"]) == list(range(1, len(board["panels"]) + 1))
    for annotation in board["annotations"]["list"]:
        assert annotation["datasource"] == DATASOURCE and annotation["expr"] and annotation["step"]


def test_grafanas_own_models_read_the_dashboard_back_unchanged(board) -> None:
    register_default_plugins()  # the panels' and queries' own types, as the SDK's README says
    again = json.loads(JSONEncoder().encode(DashboardModel.from_json(board)))
    # The Prometheus annotation's step and formats are Grafana's, outside the builder's model.
    extras = {"step", "titleFormat", "tagKeys", "textFormat", "useValueForTime"}
    expected = {**board, "annotations": {"list": [{k: v for k, v in a.items() if k not in extras}
                                                  for a in board["annotations"]["list"]]}}
    assert again == expected


def test_the_alerts_lines_and_expressions_are_the_alerts_own() -> None:
    scenario = get_scenario("blackfriday")
    board = dashboard(scenario, 10)
    by_title = {p["title"]: p for p in board["panels"]}
    p95, checkout = by_title["Catalog listing p95"], by_title["Checkout failure rate"]
    assert p95["targets"][0]["expr"] == expressions(scenario, 10)["catalog_p95_ms"]
    assert checkout["targets"][0]["expr"] == expressions(scenario, 10)["checkout_error_rate"]
    assert [s["value"] for s in p95["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [
        None, scenario.alert.catalog_p95_ms_gt]
    assert [s["value"] for s in checkout["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [
        None, scenario.alert.checkout_error_rate_gt]
    firing = [a for a in board["annotations"]["list"] if scenario.alert.name in a["expr"]]
    assert firing and 'alertstate="firing"' in firing[0]["expr"]


def test_the_uid_is_the_scenarios_at_any_minute_length() -> None:
    for scenario in SCENARIOS.values():
        uids = {dashboard(scenario, s)["uid"] for s in MINUTES}
        assert uids == {uid(scenario)} and len(uid(scenario)) <= 40
    assert json.loads(dashboard_text(get_scenario("blackfriday"), 10)) == dashboard(get_scenario("blackfriday"), 10)


@pytest.fixture(scope="module")
def parser(tmp_path_factory) -> Iterator[str]:
    """A real Prometheus with nothing to scrape: only its query parser is wanted."""
    promtool()  # the same Debian package: skipped or failed as promtool is
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed (make system)")
    workdir: Path = tmp_path_factory.mktemp("prometheus")
    prometheus = LocalPrometheus(workdir, get_scenario("blackfriday"), 10.0, {}).start()
    try:
        yield prometheus.url
    finally:
        prometheus.stop()


@pytest.mark.parametrize("minute_seconds", MINUTES, ids=lambda s: f"{s:g}s")
def test_prometheus_parses_every_expression(parser: str, minute_seconds: float) -> None:
    scenario = get_scenario("blackfriday")
    exprs = [q.expr for p in panels(scenario, minute_seconds) for q in p.queries]
    exprs += [a.expr for a in annotations_of(scenario, minute_seconds)]
    for expr in exprs:
        answer = httpx.get(f"{parser}/api/v1/query", params={"query": expr}, timeout=10).json()
        assert answer["status"] == "success", (expr, answer.get("error"))
