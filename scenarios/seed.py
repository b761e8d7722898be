"""Apply the schema and seed the catalog: set-based SQL, idempotent, fast at millions of rows.

Also the entry point of the Kubernetes seed Job: `python -m scenarios.seed --products N`."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import psycopg

from scenarios.model import SQL_DIR

SECONDARY_INDEXES = ("idx_products_category", "idx_products_stock_quantity", "idx_products_doorbuster")


@dataclass(frozen=True)
class SeedResult:
    products: int
    seeded: bool
    seconds: float


def apply_schema(conn: psycopg.Connection) -> None:
    conn.execute((SQL_DIR / "schema.sql").read_text())  # type: ignore[arg-type]


def _index_definitions(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products' "
        "AND indexname = ANY(%s)", [list(SECONDARY_INDEXES)],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def seed_catalog(conninfo: str, products: int, doorbusters: int = 3) -> SeedResult:
    """Create the schema, then fill an empty catalog with `products` rows.

    Secondary indexes are dropped for the bulk insert and rebuilt after it, in the same
    transaction: one sort per index instead of a million random insertions."""
    if products < doorbusters or doorbusters < 1:
        raise ValueError(f"products ({products}) must be at least doorbusters ({doorbusters}) >= 1")
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        apply_schema(conn)
        have = conn.execute("SELECT count(*) FROM products").fetchone()[0]  # type: ignore[index]
        if have:
            return SeedResult(have, False, time.perf_counter() - started)
        with conn.transaction():
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            definitions = _index_definitions(conn)
            for name, _ in definitions:
                conn.execute(f"DROP INDEX {name}")  # names come from our own constant list
            sql = (SQL_DIR / "seed_catalog.sql").read_text()
            conn.execute(sql, {"products": products, "doorbusters": doorbusters})  # type: ignore[arg-type]
            # Ids are explicit, so the catalog is the same everywhere: move the identity past them.
            conn.execute("SELECT setval(pg_get_serial_sequence('products', 'id'), %s)", [products])
            for _, definition in definitions:
                conn.execute(definition)  # type: ignore[arg-type]
        conn.execute("VACUUM (ANALYZE) products")
    return SeedResult(products, True, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--doorbusters", type=int, default=3)
    parser.add_argument("--conninfo", default="", help="libpq string; default from PG*/DB_* env")
    args = parser.parse_args(argv)
    conninfo = args.conninfo or _conninfo_from_env()
    result = seed_catalog(conninfo, args.products, args.doorbusters)
    verb = "seeded" if result.seeded else "already had"
    print(f"{verb} {result.products} products in {result.seconds:.1f} s")


def _conninfo_from_env() -> str:
    from services.shared.config import ServiceSettings

    return ServiceSettings().conninfo()


if __name__ == "__main__":
    main()
