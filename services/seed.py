"""Apply the schema and seed the catalog: set-based SQL, idempotent, fast at millions of rows.

Also the entry point of the Kubernetes seed Job: `python -m services seed --products N`."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from importlib.resources import files

import psycopg

from services.shared.config import ServiceSettings
from services.shared.db import wait_until_reachable

SECONDARY_INDEXES = ("idx_products_category", "idx_products_stock_quantity", "idx_products_doorbuster")


@dataclass(frozen=True)
class SeedResult:
    products: int
    seeded: bool
    seconds: float


def storefront_sql(name: str) -> str:
    """The storefront's own SQL (schema, catalog generator), shipped inside the package."""
    return files("services").joinpath("sql", name).read_text(encoding="utf-8")


def apply_schema(conn: psycopg.Connection) -> None:
    conn.execute(storefront_sql("schema.sql"))  # type: ignore[arg-type]


def _index_definitions(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products' "
        "AND indexname = ANY(%s)", [list(SECONDARY_INDEXES)],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _catalog_size(conn: psycopg.Connection) -> int:
    if conn.execute("SELECT to_regclass('products')").fetchone() == (None,):
        return 0
    return int(conn.execute("SELECT count(*) FROM products").fetchone()[0])  # type: ignore[index]


def _resizable(conn: psycopg.Connection, have: int, products: int) -> bool:
    """Whether a catalog of `have` rows is to be reseeded at `products`: off by more than 10 %,
    and no scenario applied (every secondary index there), since the reseed rebuilds them."""
    if abs(have - products) / products <= 0.10:
        return False
    if len(_index_definitions(conn)) < len(SECONDARY_INDEXES):
        print(f"keeping the catalog of {have} products: a scenario is applied (its indexes are gone); "
              f"remove it and run the seed again to load {products}")
        return False
    return True


def seed_catalog(conninfo: str, products: int, doorbusters: int = 3, *, resize: bool = False) -> SeedResult:
    """Create the schema, then fill an empty catalog with `products` rows. A database that
    already holds a catalog is left exactly as it is, its indexes included: a seed Job run
    again (a new image, a retried pod) must not rebuild the indexes a scenario dropped, which
    would end the outage mid-demo while Pulumi's state still says it is on. With `resize`, a
    catalog of another size (a new calibration) is emptied and seeded again, on the baseline
    only: its carts and orders go with it.

    Secondary indexes are dropped for the bulk insert and rebuilt after it, in the same
    transaction: one sort per index instead of a million random insertions."""
    if products < doorbusters or doorbusters < 1:
        raise ValueError(f"products ({products}) must be at least doorbusters ({doorbusters}) >= 1")
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = _catalog_size(conn)
        if have and not (resize and _resizable(conn, have, products)):
            return SeedResult(have, False, time.perf_counter() - started)
        if have:
            conn.execute("TRUNCATE products, carts, orders RESTART IDENTITY CASCADE")
        apply_schema(conn)
        with conn.transaction():
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            definitions = _index_definitions(conn)
            for name, _ in definitions:
                conn.execute(f"DROP INDEX {name}")  # names come from our own constant list
            _insert(conn, 1, products, doorbusters)
            for _, definition in definitions:
                conn.execute(definition)  # type: ignore[arg-type]
        conn.execute("VACUUM (ANALYZE) products")
    return SeedResult(products, True, time.perf_counter() - started)


def _insert(conn: psycopg.Connection, first: int, products: int, doorbusters: int) -> None:
    conn.execute(storefront_sql("seed_catalog.sql"),  # type: ignore[arg-type]
                 {"first": first, "products": products, "doorbusters": doorbusters})
    # Ids are explicit, so the catalog is the same everywhere: move the identity past them.
    conn.execute("SELECT setval(pg_get_serial_sequence('products', 'id'), %s)", [products])


def grow_catalog(conninfo: str, products: int, doorbusters: int = 3) -> SeedResult:
    """Add the rows a catalog seeded by seed_catalog lacks to reach `products`: row i is the
    same at any size, so the result is the catalog seed_catalog(products) makes, without
    writing again the rows already there (calibration grows its probe catalog to the size it
    measured, rather than truncating and seeding it all again). The indexes present are kept
    up to date as the rows go in: one dropped by a scenario stays dropped."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = int(conn.execute("SELECT coalesce(max(id), 0) FROM products").fetchone()[0])  # type: ignore[index]
        if have != _catalog_size(conn) or have < doorbusters:
            raise ValueError(f"not a catalog seed_catalog made: {_catalog_size(conn)} rows up to id {have}")
        if products <= have:
            return SeedResult(have, False, time.perf_counter() - started)
        with conn.transaction():
            _insert(conn, have + 1, products, doorbusters)
        conn.execute("VACUUM (ANALYZE) products")
    return SeedResult(products, True, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services seed", description=__doc__)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--doorbusters", type=int, default=3)
    parser.add_argument("--resize", action="store_true", help="reseed a baseline catalog of another size")
    parser.add_argument("--conninfo", default="", help="libpq string; default from PG*/DB_* env")
    args = parser.parse_args(argv)
    settings = ServiceSettings()
    conninfo = args.conninfo or settings.conninfo()
    wait_until_reachable(conninfo, settings.db_reachable_within_s)
    result = seed_catalog(conninfo, args.products, args.doorbusters, resize=args.resize)
    verb = "seeded" if result.seeded else "already had"
    print(f"{verb} {result.products} products in {result.seconds:.1f} s")

