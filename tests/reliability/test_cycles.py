"""Twenty break/restore cycles: pg_indexes back to baseline every time, the data untouched."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from rehearsal.database import break_database, restore_database
from rehearsal.localpg import LocalPostgres
from scenarios.model import Scenario
from tests.reliability.conftest import data_checksums, index_rows, invalid_indexes

CYCLES = 20


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_twenty_break_restore_cycles_leave_indexes_and_data_as_they_were(
    pg: LocalPostgres, db: psycopg.Connection[Any], scenario: Scenario, baseline_restored: None,
    fresh_schema_indexes: list[tuple[str, str, str]],
) -> None:
    baseline = index_rows(pg.conninfo())
    assert baseline == fresh_schema_indexes, "the session database did not start at baseline"
    data = data_checksums(pg.conninfo())
    assert data["products"][0] > 0
    dropped = set(scenario.dropped_indexes)

    for cycle in range(CYCLES):
        break_database(pg, scenario)
        broken = {r[1] for r in index_rows(pg.conninfo())}
        assert not broken & dropped, f"cycle {cycle}: break left {sorted(broken & dropped)}"
        state = restore_database(pg, scenario)
        assert state.restored(scenario) and not state.invalid, f"cycle {cycle}: {state}"
        assert index_rows(pg.conninfo()) == baseline, f"cycle {cycle}: pg_indexes differ from baseline"

    assert invalid_indexes(pg.conninfo()) == []
    assert data_checksums(pg.conninfo()) == data
    # The query planner uses what was rebuilt: the catalog listing is an index scan again.
    plan = db.execute("EXPLAIN (FORMAT JSON) SELECT id FROM products WHERE category = 'toys/sub01' "
                      "AND price BETWEEN 10 AND 50 ORDER BY price LIMIT 20").fetchone()[0]
    assert "idx_products_category" in str(plan)
