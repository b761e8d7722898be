"""The scenarios' SQL, shipped inside the package: read through importlib.resources, so an
installed wheel (the services image) finds it as the source tree does."""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

from scenarios.model import Scenario


def _resource(name: str) -> Traversable:
    return files("scenarios").joinpath("sql", *name.split("/"))


def sql_exists(name: str) -> bool:
    return _resource(name).is_file()


def sql_text(name: str) -> str:
    """The text of a scenario SQL file, by its name under scenarios/sql."""
    return _resource(name).read_text(encoding="utf-8")


def restorations(s: Scenario) -> dict[str, str | None]:
    """For each dropped index, the statement of the restore SQL that rebuilds it (None: none does)."""
    sql = sql_text(s.restore_sql)
    found: dict[str, str | None] = {}
    for index in s.dropped_indexes:
        match = re.search(rf"CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*?\b{re.escape(index)}\b[^;]*;",
                          sql, re.IGNORECASE)
        found[index] = " ".join(match.group(0).split()) if match else None
    return found
