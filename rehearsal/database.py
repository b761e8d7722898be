"""Applying and undoing a scenario's SQL, exactly as the Pulumi Command does: the file's
text fed to psql on stdin, the break as one transaction (a failed break changes nothing), the
restore statement by statement (CREATE INDEX CONCURRENTLY runs outside any transaction)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from rehearsal.localpg import LocalPostgres
from scenarios.model import Scenario
from scenarios.scripts import sql_text


@dataclass(frozen=True)
class IndexState:
    definitions: dict[str, str]   # name -> CREATE INDEX ... as pg_indexes shows it
    invalid: tuple[str, ...]

    def restored(self, scenario: Scenario) -> bool:
        return all(name in self.definitions for name in scenario.dropped_indexes) and not self.invalid


def break_database(pg: LocalPostgres, scenario: Scenario) -> None:
    pg.psql(sql_text(scenario.break_sql), one_transaction=True)


def restore_database(pg: LocalPostgres, scenario: Scenario) -> IndexState:
    pg.psql(sql_text(scenario.restore_sql))
    return index_state(pg.conninfo())


def index_state(conninfo: str) -> IndexState:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products' "
                            "ORDER BY indexname").fetchall()
        defs = {str(r[0]): str(r[1]) for r in rows}
        invalid = tuple(r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid ORDER BY 1").fetchall())
    return IndexState(defs, invalid)
