"""Calibration's own database on the demo's server, and the catalog it is measured on: seeded
at a probe size, the scenario applied, its listing timed, then grown to the size that meets
the target. The rehearsal may take that sized catalog as the demo's (copy_to) instead of
seeding the same rows again; the cluster's Job never does."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from scenarios.model import Scenario
from scenarios.scripts import sql_text
from services.calibration.sizing import catalog_size, listing_latency
from services.seed import grow_catalog, seed_catalog


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Progress:
    """One line per phase on stderr: what it measured and how long it took; the total at the end."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def say(self, text: str) -> None:
        now = time.monotonic()
        say(f"  {text} ({now - self.last:.1f} s)")
        self.last = now

    def total(self) -> float:
        return time.monotonic() - self.started


@dataclass(frozen=True)
class CalibrationDatabase:
    """A database of calibration's own beside the demo's, on the same server."""

    server: str  # conninfo of the demo's database: its server, user and password

    @property
    def name(self) -> str:
        return f"{conninfo_to_dict(self.server).get('dbname', 'postgres')}_calibration"

    @property
    def conninfo(self) -> str:
        return make_conninfo(self.server, dbname=self.name)

    def _run(self, *statements: sql.Composed, on: str | None = None) -> None:
        with psycopg.connect(on or self.server, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def create(self) -> None:
        self.drop()  # a calibration that died leaves its database behind
        self._run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        self._run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def copy_to(self, dbname: str) -> None:
        """Replace database `dbname` by a copy of this one, files copied as they are (FILE_COPY:
        no WAL written for it, no row inserted again). Run from the server's maintenance
        database, since `dbname` may be the one `server` names; nothing may be connected here."""
        if dbname == self.name:
            raise ValueError(f"{dbname} is calibration's own database")
        target, source = sql.Identifier(dbname), sql.Identifier(self.name)
        self._run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(target),
                  sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(target, source),
                  on=make_conninfo(self.server, dbname="postgres"))


def apply_scenario(conninfo: str, scenario: Scenario) -> None:
    with psycopg.connect(conninfo) as conn:  # one transaction, as `psql -1` runs it
        conn.execute(sql_text(scenario.break_sql))  # type: ignore[arg-type]


def settle(conninfo: str) -> None:
    """Let a freshly seeded catalog settle before it is measured, as the demo's has by minute
    15: its dirty pages written out and the table read once. Otherwise the checkpointer
    flushes the seed inside the database's CPU limit while the scans are timed (measured
    under the quota: a capacity of 8.3 listings/s, then a sale at 1.05x that ran at 0.7x)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege as exc:
            say(f"  (no CHECKPOINT before measuring: {exc.diag.message_primary})")
        conn.execute("SELECT count(*) FROM products").fetchone()


@dataclass(frozen=True)
class Sizing:
    """The catalog's size, and the listings per second the database completed on it with the
    pool's sessions listing at once (None: the size was given, nothing timed)."""

    products: int
    listings_per_s: float | None = None


def size_catalog(conninfo: str, scenario: Scenario, probe_products: int, target_listing_s: float,
                 pool: int, seconds: float, progress: Progress) -> Sizing:
    """Seed a probe catalog, time its listing, and grow it to the size at which a listing
    takes `target_listing_s`; the scenario is left applied (indexes gone) for what is measured next."""
    seeded = seed_catalog(conninfo, probe_products, scenario.doorbusters)
    apply_scenario(conninfo, scenario)
    settle(conninfo)
    progress.say(f"probe catalog: {seeded.products:,} products seeded, the scenario applied")
    have = seeded.products
    latency = listing_latency(conninfo, pool, seconds=seconds)
    products = catalog_size(have, latency, target_listing_s)
    # Scan time is linear in rows: the database's listings per second at the size chosen.
    timed = Sizing(products, pool / latency * have / products)
    progress.say(f"catalog size: {have:,} products list in {latency:.2f} s with {pool} sessions; "
                 f"{products:,} list in {target_listing_s:g} s")
    if abs(products - have) / have <= 0.10:
        return Sizing(have, pool / latency)
    say(f"  (growing it to {products:,}: some {seeded.seconds * (products - have) / have:.0f} s, "
        "at the rate the probe was seeded)")
    if products > have:
        grow_catalog(conninfo, products, scenario.doorbusters)  # its indexes stay as the scenario left them
    else:  # a slow machine: a smaller catalog, seeded anew, and the scenario applied again
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("TRUNCATE products, carts, orders RESTART IDENTITY CASCADE")
        seed_catalog(conninfo, products, scenario.doorbusters)
        apply_scenario(conninfo, scenario)
    settle(conninfo)
    progress.say(f"catalog seeded to {products:,} products")
    return timed


def fixed_catalog(conninfo: str, scenario: Scenario, products: int, progress: Progress) -> Sizing:
    seeded = seed_catalog(conninfo, products, scenario.doorbusters)
    apply_scenario(conninfo, scenario)
    settle(conninfo)
    progress.say(f"catalog: {seeded.products:,} products seeded, the scenario applied")
    return Sizing(seeded.products)

