"""A calibration: the capacities measured where the demo runs, which size the scenario's
traffic. Parsed in one place, with one error that names where the text came from."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

# Where a calibration program's result line starts: the Pulumi program finds it in the Job's log.
RESULT_PREFIX = "BFDEMO_CALIBRATION "


class CalibrationError(ValueError):
    """Text that is not a calibration; the message names its source and what was expected."""


@dataclass(frozen=True)
class Calibration:
    products: int
    # Catalog listings per second the database completes with the scenario's pool, indexes gone.
    catalog_capacity_qps: float
    # Doorbuster checkouts per second one hot row's lock lets through, indexes gone, under load.
    lock_throughput_per_s: float
    measured_at: str = ""
    machine: str = ""
    # The database's CPU as measured: the pod's limit as a CFS quota, or why it was not one.
    database_cpu: str = ""
    # The scenario whose pools and load it was measured with.
    scenario: str = ""
    # Wall seconds from launching calibration's two storefront services to both answering
    # /ready, on this machine (0: not measured, an older calibration).
    services_start_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Calibration:
        """The calibration in `text`; CalibrationError naming `source` when it is not one."""
        expected = ("expected a JSON object with products (a whole number of at least 1), "
                    "catalog_capacity_qps and lock_throughput_per_s (positive numbers)")
        try:
            data = json.loads(text)
            known = {f.name for f in fields(cls)}
            if not isinstance(data, dict) or set(data) - known:
                raise TypeError(f"unexpected keys {sorted(set(data) - known) if isinstance(data, dict) else data!r}")
            calibration = cls(**data)
        except (ValueError, TypeError) as exc:
            raise CalibrationError(f"{source} is not a calibration: {expected} ({exc}).") from None
        if not calibration.valid():
            raise CalibrationError(f"{source} is not a calibration: {expected}; got {text.strip()}.")
        return calibration

    def valid(self) -> bool:
        rates = (self.catalog_capacity_qps, self.lock_throughput_per_s)
        return (isinstance(self.products, int) and self.products >= 1
                and all(isinstance(r, int | float) and math.isfinite(r) and r > 0 for r in rates))
