"""A full compressed scenario (30 demo minutes at 2 s each): no unit of stock lost or invented,
every order has its lines, and the orders in the database are exactly the checkouts the
checkout service answered 201 to (counted from its collected server spans)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rehearsal.runner as runner
from rehearsal.localpg import LocalPostgres
from rehearsal.otlp import OtlpReceiver, SpanRecord
from rehearsal.runner import RunOptions, run_demo
from scenarios.model import Scenario
from tests.reliability.conftest import (
    DEMO_PRODUCTS,
    MINUTE_SECONDS,
    DemoWorkdir,
    index_rows,
    invalid_indexes,
    stock_ledger,
)

SERVER = 2  # SpanKind.SERVER in OTLP
CHECKOUT_ROUTES = ("/checkout", "/checkout/create")


@pytest.fixture
def captured_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[OtlpReceiver]]:
    """The runner's own OTLP receiver, kept so the test can read the spans it collected."""
    kept: list[OtlpReceiver] = []
    make = runner.make_receiver

    def keep(*args: Any) -> OtlpReceiver:
        receiver = make(*args)
        kept.append(receiver)
        return receiver

    monkeypatch.setattr(runner, "make_receiver", keep)
    yield kept


def _status(span: SpanRecord) -> int:
    return int(span.attributes.get("http.response.status_code") or span.attributes.get("http.status_code") or 0)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_full_compressed_scenario_loses_and_invents_nothing(
    demo_workdir: DemoWorkdir, scenario: Scenario, sigterm_handler_kept: None,
    captured_receiver: list[OtlpReceiver], fresh_schema_indexes: list[tuple[str, str, str]],
) -> None:
    report_path = demo_workdir.path / "report.json"
    report = run_demo(RunOptions(scenario, demo_workdir.path, MINUTE_SECONDS, report_path,
                                 products=DEMO_PRODUCTS, duration_minutes=scenario.duration_minutes))
    assert Path(report_path).exists()
    assert report["stock"]["products_unbalanced"] == 0, report["stock"]
    assert report["stock"]["orders_without_lines"] == 0, report["stock"]
    assert report["restore"] == {"indexes_restored": True, "invalid_indexes": []}

    spans = captured_receiver[0].store.snapshot()
    checkouts = [s for s in spans if s.service == "checkout" and s.kind == SERVER
                 and s.attributes.get("http.route") in CHECKOUT_ROUTES]
    answered = [_status(s) for s in checkouts]
    created = answered.count(201)
    assert created > 0, "the scenario placed no order: nothing was proven"
    assert 500 not in answered, "a checkout answered 500"
    assert all(code in (201, 409, 503) for code in answered), sorted(set(answered))

    server = LocalPostgres(demo_workdir.pgdata)
    assert not server.is_running(), "the runner left PostgreSQL running"
    server.up()
    try:
        ledger = stock_ledger(server.conninfo())
        assert ledger["unbalanced_products"] == 0 and ledger["orders_without_lines"] == 0, ledger
        assert ledger["orders_with_wrong_total"] == 0, ledger
        # Every 201 is an order, and every failed checkout left nothing behind.
        assert ledger["orders"] == created, (
            f"{ledger['orders']} orders in the database, {created} checkouts answered 201, "
            f"{len(answered) - created} failed ({sorted(set(answered))})")
        assert ledger["orders"] == report["stock"]["orders"]
        assert index_rows(server.conninfo()) == fresh_schema_indexes
        assert invalid_indexes(server.conninfo()) == []
    finally:
        server.stop()
