"""What every benchmark gets: a running embedded PostgreSQL with the calibrated catalog,
indexes present, and a scratch directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rehearsal.localpg import LocalPostgres
from scenarios.calibration import Calibration
from scenarios.model import Scenario


@dataclass(frozen=True)
class BenchContext:
    workdir: Path             # scratch space (bench/.work), kept between runs
    pg: LocalPostgres         # running; schema applied, catalog seeded at calibration.products
    calibration: Calibration
    scenario: Scenario
    quick: bool               # BENCH_QUICK=1: shorter runs, for a smoke check of the harness

    def seconds(self, full: float) -> float:
        """A measuring duration: full length normally, a fifth (at least 3 s) when quick."""
        return max(3.0, full / 5) if self.quick else full


def quick_from_env() -> bool:
    return os.environ.get("BENCH_QUICK", "") not in ("", "0", "false")
