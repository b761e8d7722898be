"""Calibration on this machine: size the catalog, then measure the capacities the scenario is
sized from, on the local stack with the indexes gone and the scenario's pool (the measuring
itself is services.calibration's, which the cluster runs too).

1. Catalog size: the listing's latency with the scenario's pool of sessions all scanning at
   once, on a probe catalog; the catalog is sized so that it reaches `target_listing_s`.
2. Catalog capacity: listings per second the services complete.
3. Lock throughput: doorbuster orders per second the hot row lets through while the catalog
   is overloaded as in the rush. The rush is sized from it."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime

import psycopg

from rehearsal.database import break_database, restore_database
from rehearsal.localpg import LocalPostgres
from rehearsal.stack import LocalStack
from scenarios.calibration import Calibration
from scenarios.model import Scenario
from services.calibration.capacity import catalog_capacity, lock_throughput, shopper
from services.calibration.sizing import catalog_size, listing_latency
from services.seed import seed_catalog


def size_catalog(pg: LocalPostgres, scenario: Scenario, pool: int, target_s: float, probe: int) -> int:
    """Seed a probe catalog, measure, and reseed at the size that meets the target; the
    scenario is left applied (indexes gone) for what is measured next."""
    have = seed_catalog(pg.conninfo(), probe, scenario.doorbusters).products
    break_database(pg, scenario)
    products = catalog_size(have, listing_latency(pg.conninfo(), pool, seconds=6.0), target_s)
    if abs(products - have) / have <= 0.10:
        return have
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        conn.execute("TRUNCATE products, carts, orders RESTART IDENTITY CASCADE")
    seed_catalog(pg.conninfo(), products, scenario.doorbusters)
    break_database(pg, scenario)  # seeding rebuilt the schema's indexes
    return products


def calibrate(pg: LocalPostgres, stack: LocalStack, scenario: Scenario, *, target_listing_s: float = 1.5,
              probe_products: int = 300_000) -> Calibration:
    config = scenario.config_values(scenario_active=True)
    pool = int(config["DB_MAX_CONNECTIONS"])
    rush = next(st for st in scenario.traffic.stages if st.checkout_overload is not None)
    products = size_catalog(pg, scenario, pool, target_listing_s, probe_products)
    stack.start_storefront({**config, "DEMO_MODE": "off"})
    try:
        who = shopper(stack.url("product-catalog"), stack.url("checkout"))
        catalog_qps = catalog_capacity(who, guess_qps=pool / target_listing_s)
        lock_per_s = lock_throughput(who, catalog_qps, rush.catalog_overload or 1.0)
    finally:
        stack.stop_all()
        restore_database(pg, scenario)
    return Calibration(
        products=products, catalog_capacity_qps=round(catalog_qps, 3),
        lock_throughput_per_s=round(lock_per_s, 3),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=f"{platform.machine()} {platform.node()} cpus={os.cpu_count()}",
        database_cpu="PostgreSQL " + (pg.cpu.describe() if pg.cpu else "unlimited (no CPU limit asked for)"),
    )
