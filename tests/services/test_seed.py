"""Schema and catalog generator, on a database of their own."""

from __future__ import annotations

import psycopg
import pytest

from scenarios.blackfriday import BLACKFRIDAY
from scenarios.scripts import sql_text
from services.seed import grow_catalog, seed_catalog


@pytest.fixture
def fresh_db(pg):
    name = "seedtest"
    pg.psql(f"DROP DATABASE IF EXISTS {name}", db="postgres")
    pg.psql(f"CREATE DATABASE {name}", db="postgres")
    yield pg.conninfo(name)
    pg.psql(f"DROP DATABASE {name} WITH (FORCE)", db="postgres")


def test_seeding_is_idempotent_and_deterministic(fresh_db):
    first = seed_catalog(fresh_db, 5000, doorbusters=4)
    again = seed_catalog(fresh_db, 9999)
    assert first.seeded and first.products == 5000
    assert not again.seeded and again.products == 5000
    with psycopg.connect(fresh_db) as conn:
        doorbusters = conn.execute("SELECT array_agg(id ORDER BY id) FROM products WHERE is_doorbuster").fetchone()[0]
        low, categories, bad = conn.execute(
            "SELECT count(*) FILTER (WHERE stock_quantity < 5), count(DISTINCT category), "
            "count(*) FILTER (WHERE stock_received <> stock_quantity OR price <= 0) FROM products").fetchone()
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'products'")}
        checksum = conn.execute("SELECT md5(string_agg(id || name || category || price || stock_quantity, ',' "
                                "ORDER BY id)) FROM products").fetchone()[0]
    assert doorbusters == [1, 2, 3, 4]
    assert low == 12 and categories == 200 and bad == 0
    assert {"idx_products_category", "idx_products_stock_quantity", "products_pkey"} <= indexes
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("TRUNCATE products CASCADE")
    seed_catalog(fresh_db, 5000, doorbusters=4)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT md5(string_agg(id || name || category || price || stock_quantity, ',' "
                            "ORDER BY id)) FROM products").fetchone()[0] == checksum


def test_seed_rejects_impossible_sizes(fresh_db):
    with pytest.raises(ValueError, match="must be at least doorbusters"):
        seed_catalog(fresh_db, 2, doorbusters=3)


def test_a_seed_run_again_leaves_a_broken_catalog_broken(fresh_db):
    """The seed Job re-runs on any change of its pod template; the scenario must survive it."""
    seed_catalog(fresh_db, 5000)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(sql_text(BLACKFRIDAY.break_sql))
        before = conn.execute("SELECT indexname, indexdef FROM pg_indexes ORDER BY 1").fetchall()
    again = seed_catalog(fresh_db, 5000)
    with psycopg.connect(fresh_db) as conn:
        after = conn.execute("SELECT indexname, indexdef FROM pg_indexes ORDER BY 1").fetchall()
    assert not again.seeded and again.products == 5000
    assert after == before
    assert not {"idx_products_category", "idx_products_stock_quantity"} & {r[0] for r in after}


def _catalog(conninfo: str) -> tuple[int, int]:
    with psycopg.connect(conninfo) as conn:
        products = conn.execute("SELECT count(*) FROM products").fetchone()[0]
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    return products, orders


def test_a_new_calibration_resizes_a_baseline_catalog_and_only_that(fresh_db):
    seed_catalog(fresh_db, 5000)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("INSERT INTO orders (customer_id, total) VALUES ('someone', 1)")
    assert not seed_catalog(fresh_db, 5400, resize=True).seeded  # within 10 %: kept
    assert _catalog(fresh_db) == (5000, 1)
    assert seed_catalog(fresh_db, 8000, resize=True).seeded
    assert _catalog(fresh_db) == (8000, 0)
    # With the scenario applied, the reseed would rebuild its indexes: the catalog is kept.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(sql_text(BLACKFRIDAY.break_sql))
    assert not seed_catalog(fresh_db, 5000, resize=True).seeded
    assert _catalog(fresh_db) == (8000, 0)


def _rows(conninfo: str) -> tuple[object, ...]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT count(*), md5(string_agg(id || name || category || price || stock_quantity "
                            "|| stock_received || is_doorbuster || description, ',' ORDER BY id)), "
                            "nextval(pg_get_serial_sequence('products', 'id')) FROM products").fetchone()


def test_a_grown_catalog_is_the_one_seeded_at_its_size_and_keeps_a_scenarios_dropped_indexes(fresh_db):
    seed_catalog(fresh_db, 3000, doorbusters=4)
    expected = _rows(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("TRUNCATE products CASCADE")
    seed_catalog(fresh_db, 1000, doorbusters=4)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(sql_text(BLACKFRIDAY.break_sql))
    grown = grow_catalog(fresh_db, 3000, doorbusters=4)
    assert grown.seeded and grown.products == 3000
    assert _rows(fresh_db) == expected  # rows, and the identity moved past them
    with psycopg.connect(fresh_db) as conn:
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'products'")}
    assert not indexes & set(BLACKFRIDAY.dropped_indexes)
    assert not grow_catalog(fresh_db, 2000, doorbusters=4).seeded  # never shrinks


def test_growing_refuses_a_catalog_it_did_not_seed(fresh_db):
    seed_catalog(fresh_db, 1000)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE id = 500")
    with pytest.raises(ValueError, match="not a catalog seed_catalog made"):
        grow_catalog(fresh_db, 2000)
