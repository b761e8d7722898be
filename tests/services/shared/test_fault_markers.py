"""Fault markers come from the service that sees the fault: a service started with the
scenario's settings marks them, and a real DROP INDEX and its restore, read by the service's
index catalog from the real PostgreSQL, are marked as they happen (span, counter on /metrics)."""

from __future__ import annotations

import re

from services.product_catalog.main import create_app
from services.seed import apply_schema
from services.shared.config import ServiceSettings
from services.shared.faults import FaultMarkers, config_step


def marker_steps(service) -> list[str]:
    return [str(s.attributes["demo.step"]) for s in service.finished_spans() if s.name == "demo.marker"]


def test_the_scenarios_settings_and_a_real_index_drop_and_restore_are_marked(run_service, db,
                                                                            restore_indexes) -> None:
    catalog = run_service(create_app, demo_mode="blackfriday", db_max_connections=20, db_connection_timeout=5)
    settings = "settings applied: DB_MAX_CONNECTIONS=20, DB_CONNECTION_TIMEOUT=5.0"
    catalog.wait_spans(lambda s: s.name == "demo.marker" and s.attributes["demo.step"] == settings)
    db.execute("DROP INDEX idx_products_category")
    [dropped] = catalog.wait_spans(lambda s: s.name == "demo.marker"
                                   and s.attributes["demo.step"] == "index dropped: idx_products_category")
    assert dropped.attributes["demo.kind"] == "fault" and dropped.attributes["demo.scenario"] == "blackfriday"
    apply_schema(db)
    catalog.wait_spans(lambda s: s.name == "demo.marker"
                       and s.attributes["demo.step"] == "index restored: idx_products_category")
    assert marker_steps(catalog).count("index dropped: idx_products_category") == 1  # once, not per poll
    with catalog.client() as c:
        text = c.get("/metrics").text
    faults = re.findall(r'^demo_marker_total\{[^}]*demo_kind="fault"[^}]*\} (\S+)$', text, re.M)
    assert sum(float(v) for v in faults) == 3


def test_a_baseline_service_marks_nothing(run_service) -> None:
    catalog = run_service(create_app)
    with catalog.client() as c:
        assert c.get("/ready").status_code == 200
    assert marker_steps(catalog) == []


def test_indexes_missing_when_the_service_starts_are_marked_once() -> None:
    emitted: list[str] = []

    class Recorder(FaultMarkers):
        def _emit(self, scenario: str, step: str) -> None:
            emitted.append(f"{scenario}: {step}")

    markers = Recorder(ServiceSettings(), telemetry=None)  # type: ignore[arg-type]
    markers.indexes_changed(frozenset({"idx_products_stock_quantity", "products_pkey"}))
    markers.indexes_changed(frozenset({"idx_products_stock_quantity", "products_pkey"}))
    assert emitted == ["blackfriday: index missing: idx_products_category"]
    assert config_step(ServiceSettings()) is None
