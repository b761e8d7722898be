"""Calibration, whole: `python -m services calibrate --scenario NAME`, the cluster's
calibration Job, and what `bfdemo calibrate` runs on a laptop. One code path in both places.

It measures in a database of its own on the stack's PostgreSQL server (`<db>_calibration`),
dropped at the end: the same server, CPU limit and table sizes as the demo, and nothing of it
left in the demo's data (no orders, no dropped index, no half-applied scenario if it dies).

1. Catalog size: the listing's latency with the scenario's pool of sessions scanning at once,
   indexes gone, on a probe catalog; the catalog is sized so that it reaches `target_listing_s`.
2. Catalog capacity: listings per second the services complete while the sale's own
   ordinary checkouts run beside them (their low-stock checks scan the table too).
3. Lock throughput: doorbuster orders per second the hot row lets through while the catalog
   is loaded as in the rush the targets judge. The rush is sized from it.

The result is printed as the last line of stdout after RESULT_PREFIX; the Pulumi program reads
it from the Job's log into its state."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from scenarios.calibration import RESULT_PREFIX, Calibration
from scenarios.catalogue import get_scenario
from scenarios.intensity import cart_checkouts_per_s
from scenarios.model import Scenario, Stage
from scenarios.scripts import sql_text
from services.calibration.capacity import CatalogFit, Probe, catalog_fit, lock_throughput, shopper
from services.calibration.sizing import catalog_size, listing_latency
from services.calibration.storefront import storefront
from services.seed import grow_catalog, seed_catalog

# Shorter rounds, less exact (`--quick`, the stack's calibrationProbe: quick, the tests).
QUICK = Probe(listing_seconds=2.0, catalog_seconds=6.0, catalog_settle_seconds=2.0, search_seconds=3.0,
              rush_seconds=8.0, orders_from_seconds=1.0, rush_settle_seconds=4.0, rounds=3, lock_seconds=12.0)


@dataclass(frozen=True)
class Plan:
    """What to measure: for which scenario, how big a probe, how long."""

    scenario: Scenario
    products: int | None = None  # a fixed catalog size: no sizing
    probe_products: int = 300_000
    target_listing_s: float = 1.5
    probe: Probe = Probe()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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

    def _run(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(statement)

    def create(self) -> None:
        self.drop()  # a calibration that died leaves its database behind
        self._run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        self._run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


def _apply_scenario(conninfo: str, scenario: Scenario) -> None:
    with psycopg.connect(conninfo) as conn:  # one transaction, as `psql -1` runs it
        conn.execute(sql_text(scenario.break_sql))  # type: ignore[arg-type]


def _settle(conninfo: str) -> None:
    """Let a freshly seeded catalog settle before it is measured, as the demo's has by minute
    15: its dirty pages written out and the table read once. Otherwise the checkpointer
    flushes the seed inside the database's CPU limit while the scans are timed (measured
    under the quota: a capacity of 8.3 listings/s, then a sale at 1.05x that ran at 0.7x)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege as exc:
            _say(f"  (no CHECKPOINT before measuring: {exc.diag.message_primary})")
        conn.execute("SELECT count(*) FROM products").fetchone()


class Progress:
    """One line per phase on stderr: what it measured and how long it took; the total at the end."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def say(self, text: str) -> None:
        now = time.monotonic()
        _say(f"  {text} ({now - self.last:.1f} s)")
        self.last = now

    def total(self) -> float:
        return time.monotonic() - self.started


def _size_catalog(conninfo: str, plan: Plan, pool: int, progress: Progress) -> int:
    """Seed a probe catalog, measure, and grow it to the size that meets the target; the
    scenario is left applied (indexes gone) for what is measured next."""
    doorbusters = plan.scenario.doorbusters
    seeded = seed_catalog(conninfo, plan.products or plan.probe_products, doorbusters)
    _apply_scenario(conninfo, plan.scenario)
    _settle(conninfo)
    progress.say(f"probe catalog: {seeded.products:,} products seeded, the scenario applied")
    if plan.products:
        return seeded.products
    have = seeded.products
    latency = listing_latency(conninfo, pool, seconds=plan.probe.listing_seconds)
    products = catalog_size(have, latency, plan.target_listing_s)
    progress.say(f"catalog size: {have:,} products list in {latency:.2f} s with {pool} sessions; "
                 f"{products:,} list in {plan.target_listing_s:g} s")
    if abs(products - have) / have <= 0.10:
        return have
    _say(f"  (growing it to {products:,}: some {seeded.seconds * (products - have) / have:.0f} s, "
         "at the rate the probe was seeded)")
    if products > have:
        grow_catalog(conninfo, products, doorbusters)  # its indexes stay as the scenario left them
    else:  # a slow machine: a smaller catalog, seeded anew, and the scenario applied again
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("TRUNCATE products, carts, orders RESTART IDENTITY CASCADE")
        seed_catalog(conninfo, products, doorbusters)
        _apply_scenario(conninfo, plan.scenario)
    _settle(conninfo)
    progress.say(f"catalog seeded to {products:,} products")
    return products


def _measured_stages(scenario: Scenario) -> tuple[Stage, Stage]:
    """The stage whose catalog load is sized first (the sale), and the rush whose checkout
    failures the targets judge: the hot row is measured under that stage's catalog load."""
    stages = scenario.traffic.stages
    sale = next(st for st in stages if st.saturates_catalog)
    rushes = [st for st in stages if st.checkout_overload is not None]
    if scenario.targets is not None:
        judged = scenario.traffic.stage_at(scenario.targets.failing_checkout[0])
        rushes = [judged, *rushes] if judged.checkout_overload is not None else rushes
    return sale, rushes[0]


def expected_seconds(plan: Plan) -> float:
    """The measuring rounds' seconds when every search ends at its first round: a floor
    under the whole, which adds the seeding (told once the probe's rate is known)."""
    p = plan.probe
    sizing = 0.0 if plan.products else p.listing_seconds
    return sizing + p.search_seconds + p.catalog_seconds + p.lock_seconds


def calibrate(server: str, plan: Plan, *, machine: str, database_cpu: str) -> Calibration:
    """Measure on the server of `server` (a conninfo); its own database is left untouched."""
    scenario = plan.scenario
    config = scenario.config_values(scenario_active=True)
    pool = int(config["DB_MAX_CONNECTIONS"])
    sale, rush = _measured_stages(scenario)
    traffic = scenario.traffic
    db = CalibrationDatabase(server)
    _say(f"  measuring for some {expected_seconds(plan):.0f} s, plus seeding its catalog")
    progress = Progress()
    db.create()
    try:
        products = _size_catalog(db.conninfo, plan, pool, progress)
        with storefront(db.conninfo, config) as urls:
            who = shopper(urls["product-catalog"], urls["checkout"])
            progress.say("storefront started")
            checkouts = cart_checkouts_per_s(sale, traffic.target_rpm(sale.from_minute))
            fit = catalog_fit(who, guess_qps=pool / plan.target_listing_s, probe=plan.probe,
                              checkouts_per_s=checkouts)
            progress.say(f"catalog capacity: {fit.qps:.2f} listings/s beside {checkouts:.2f} checkouts/s")
            lock_per_s = lock_throughput(who, fit.qps, rush.catalog_overload or 1.0, plan.probe,
                                         rush.checkout_overload or 1.0, guess_per_s=_lock_guess(fit))
            progress.say(f"hot-row lock throughput: {lock_per_s:.2f} checkouts/s")
    finally:
        db.drop()
    _say(f"  calibrated in {progress.total():.0f} s")
    return Calibration(
        products=products, catalog_capacity_qps=round(fit.qps, 3),
        lock_throughput_per_s=round(lock_per_s, 3),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine, database_cpu=database_cpu, scenario=scenario.name)


def _lock_guess(fit: CatalogFit) -> float | None:
    return 1.0 / fit.checkout_s if fit.checkout_s else None


def here() -> str:
    """Where this runs: the node and pod in a cluster (downward API), else this host."""
    node, pod = os.environ.get("K8S_NODE_NAME"), os.environ.get("K8S_POD_NAME")
    where = f"node {node} pod {pod}" if node else platform.node()
    return f"{where} ({platform.machine()}, {os.cpu_count()} cpus visible)"


def main(argv: list[str] | None = None) -> int:
    from services.shared.config import ServiceSettings
    from services.shared.db import wait_until_reachable

    parser = argparse.ArgumentParser(prog="python -m services calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--products", type=int, default=0, help="a fixed catalog size (0: size it)")
    parser.add_argument("--quick", action="store_true", help="shorter measuring rounds, less exact")
    parser.add_argument("--database-cpu", default=os.environ.get("DATABASE_CPU", "unknown"))
    args = parser.parse_args(argv)
    try:
        scenario = get_scenario(args.scenario)
    except KeyError as err:
        parser.error(str(err.args[0]))
    plan = Plan(scenario, args.products or None, probe=QUICK if args.quick else Probe())
    _say(f"Calibrating for {plan.scenario.name} on {here()}; database: {args.database_cpu}")
    try:
        settings = ServiceSettings()
        server = make_conninfo(settings.conninfo(), application_name="bfdemo-calibration")
        wait_until_reachable(server, settings.db_reachable_within_s)
        result = calibrate(server, plan,
                           machine=here(), database_cpu=args.database_cpu)
    except (psycopg.Error, RuntimeError, OSError) as exc:
        _say(f"calibration failed: {exc}. Nothing of it is left in the demo's database; fix the cause "
             "(is PostgreSQL up and reachable, has it the memory and disk for the catalog?) and measure "
             "again (README: Recalibrating).")
        return 1
    print(RESULT_PREFIX + json.dumps(result.to_dict()), flush=True)
    return 0
