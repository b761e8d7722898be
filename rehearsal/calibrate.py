"""Calibration on this machine: the cluster's calibration program (services.calibration.run),
run against the local PostgreSQL, which stands where the PostgreSQL pod stands. Only the
record of where it ran differs: this host, and the database's CPU as the laptop gives it.

Unlike the cluster's Job, for a run about to start (`demo_catalog`) it leaves its sized catalog
as the demo's database, scenario applied, no order in it: the run would otherwise seed the same
rows again (4.5-8 s measured) and applies the scenario at minute 0 anyway. A crash before then
is undone by recover(), which restores the indexes of any catalog it finds."""

from __future__ import annotations

from rehearsal.localpg import LocalPostgres
from scenarios.calibration import Calibration
from scenarios.model import Scenario
from services.calibration.capacity import Probe
from services.calibration.run import QUICK, Plan, calibrate, here


def calibrate_here(pg: LocalPostgres, scenario: Scenario, *, quick: bool = False,
                   products: int | None = None, demo_catalog: bool = False) -> Calibration:
    cpu = pg.cpu.describe() if pg.cpu else "unlimited (no CPU limit asked for)"
    plan = Plan(scenario, products, probe=QUICK if quick else Probe(),
                catalog_to=pg.dbname if demo_catalog else None)
    return calibrate(pg.conninfo(), plan, machine=here(), database_cpu=f"PostgreSQL {cpu}")
