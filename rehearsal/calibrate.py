"""Calibration on this machine: the cluster's calibration program (services.calibration.run),
run against the local PostgreSQL, which stands where the PostgreSQL pod stands. Only the
record of where it ran differs: this host, and the database's CPU as the laptop gives it."""

from __future__ import annotations

from rehearsal.localpg import LocalPostgres
from scenarios.calibration import Calibration
from scenarios.model import Scenario
from services.calibration.capacity import Probe
from services.calibration.run import QUICK, Plan, calibrate, here


def calibrate_here(pg: LocalPostgres, scenario: Scenario, *, quick: bool = False,
                   products: int | None = None) -> Calibration:
    cpu = pg.cpu.describe() if pg.cpu else "unlimited (no CPU limit asked for)"
    plan = Plan(scenario, products, probe=QUICK if quick else Probe())
    return calibrate(pg.conninfo(), plan, machine=here(), database_cpu=f"PostgreSQL {cpu}")
