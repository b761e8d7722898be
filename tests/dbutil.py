"""Helpers for inspecting the database in tests."""

from __future__ import annotations

from typing import Any


def counts(db: Any) -> tuple[int, int]:
    """Orders and order lines: a failed checkout must leave both unchanged."""
    return db.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines)").fetchone()
