"""Calibration, whole: `python -m services calibrate --scenario NAME`, the cluster's
calibration Job, and what `bfdemo calibrate` runs on a laptop. One code path in both places.

It measures in a database of its own on the stack's PostgreSQL server (`<db>_calibration`),
dropped at the end: the same server, CPU limit and table sizes as the demo, and nothing of it
left in the demo's data (no orders, no dropped index, no half-applied scenario if it dies).

1. Catalog size: the listing's latency with the scenario's pool of sessions scanning at once,
   indexes gone, on a probe catalog; the catalog is sized so that it reaches `target_listing_s`.
2. Catalog capacity: listings per second the services complete while the sale's own
   ordinary checkouts run beside them (their low-stock checks scan the table too).
3. Lock throughput: doorbuster orders per second the hot row lets through, one per low-stock
   scan (step 2's checkouts time it). The rush starts sized from it.

The result is printed as the last line of stdout after RESULT_PREFIX; the Pulumi program reads
it from the Job's log into its state."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg.conninfo import make_conninfo

from scenarios.calibration import RESULT_PREFIX, Calibration
from scenarios.catalogue import get_scenario
from scenarios.intensity import cart_checkouts_per_s
from scenarios.model import Scenario, Stage
from services.calibration.capacity import CatalogFit, Probe, Shopper, catalog_fit, lock_throughput, shopper
from services.calibration.catalog import CalibrationDatabase, Progress, Sizing, fixed_catalog, say, size_catalog
from services.calibration.storefront import storefront

# Shorter rounds, less exact (`--quick`, the stack's calibrationProbe: quick, the tests).
QUICK = Probe(listing_seconds=2.0, catalog_seconds=6.0, catalog_settle_seconds=2.0,
              rush_seconds=8.0, orders_from_seconds=1.0, rush_settle_seconds=4.0, rounds=3, lock_seconds=10.0)


@dataclass(frozen=True)
class Plan:
    """What to measure: for which scenario, how big a probe, how long."""

    scenario: Scenario
    products: int | None = None  # a fixed catalog size: no sizing
    probe_products: int = 300_000
    target_listing_s: float = 1.5
    probe: Probe = Probe()
    # A database on the same server to leave the sized catalog in (the rehearsal's demo
    # database, whose seeding it replaces); None in the cluster's Job, which leaves nothing
    # in the demo's data.
    catalog_to: str | None = None


def _say(text: str) -> None:
    say(text)


def _catalog(db: CalibrationDatabase, plan: Plan, pool: int, progress: Progress) -> Sizing:
    """The catalog measured on, scenario applied; copied as `plan.catalog_to` before any
    request reaches it (no order, no cart), so that database needs no seeding of its own."""
    if plan.products:
        sizing = fixed_catalog(db.conninfo, plan.scenario, plan.products, progress)
    else:
        sizing = size_catalog(db.conninfo, plan.scenario, plan.probe_products, plan.target_listing_s, pool,
                              plan.probe.listing_seconds, progress)
    if plan.catalog_to:
        db.copy_to(plan.catalog_to)
        progress.say(f"copied as {plan.catalog_to}, the scenario applied as in the catalog measured")
    return sizing


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
    """The measuring rounds' seconds when each ends at its first round: a floor under the
    whole, which adds the seeding (told once the probe's rate is known)."""
    p = plan.probe
    sizing = 0.0 if plan.products else p.listing_seconds
    return sizing + p.catalog_seconds


def calibrate(server: str, plan: Plan, *, machine: str, database_cpu: str) -> Calibration:
    """Measure on the server of `server` (a conninfo); its own database is left untouched
    unless the plan names it as `catalog_to`."""
    scenario = plan.scenario
    config = scenario.config_values(scenario_active=True)
    pool = int(config["DB_MAX_CONNECTIONS"])
    sale, rush = _measured_stages(scenario)
    traffic = scenario.traffic
    db = CalibrationDatabase(server)
    _say(f"  measuring for some {expected_seconds(plan):.0f} s, plus seeding its catalog and starting its services")
    progress = Progress()
    db.create()
    try:
        sizing = _catalog(db, plan, pool, progress)
        launched = time.monotonic()
        with storefront(db.conninfo, config) as urls:
            started_s = time.monotonic() - launched
            who = shopper(urls["product-catalog"], urls["checkout"])
            progress.say("storefront started")
            checkouts = cart_checkouts_per_s(sale, traffic.target_rpm(sale.from_minute))
            fit = catalog_fit(who, guess_qps=sizing.listings_per_s or pool / plan.target_listing_s,
                              probe=plan.probe, checkouts_per_s=checkouts)
            progress.say(f"catalog capacity: {fit.qps:.2f} listings/s beside {checkouts:.2f} checkouts/s")
            lock_per_s = _hot_row(who, fit, rush, plan.probe, progress)
    finally:
        db.drop()
    progress.say("its storefront stopped and its database dropped")
    _say(f"  calibrated in {progress.total():.0f} s")
    return Calibration(
        products=sizing.products, catalog_capacity_qps=round(fit.qps, 3),
        lock_throughput_per_s=round(lock_per_s, 3),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine, database_cpu=database_cpu, scenario=scenario.name,
        services_start_s=round(started_s, 2))


def _hot_row(who: Shopper, fit: CatalogFit, rush: Stage, probe: Probe, progress: Progress) -> float:
    """Doorbuster orders per second the hot row lets through. A doorbuster order holds the row's
    lock through its low-stock scan, so the row passes one order per scan, timed by the ordinary
    checkouts beside the saturated catalog; the load generator's live figure takes over within
    the rush's first minute. A round of doorbuster orders (12-24 s, and no closer to the live
    figure: docs/performance.md) is run only when no ordinary checkout answered."""
    if fit.checkout_s:
        rate = 1.0 / fit.checkout_s
        progress.say(f"hot-row lock throughput: {rate:.2f} checkouts/s, one per {fit.checkout_s:.2f}-s low-stock "
                     "scan, which a doorbuster order makes holding the row")
        return rate
    rate = lock_throughput(who, fit.qps, rush.catalog_overload or 1.0, probe, rush.checkout_overload or 1.0)
    progress.say(f"hot-row lock throughput: {rate:.2f} checkouts/s (no checkout answered beside the catalog: "
                 "doorbuster orders counted)")
    return rate


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
