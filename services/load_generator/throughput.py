"""The capacity the storefront shows now: successful answers per real second over a sliding
window, by kind, as this generator sees them.

While a resource is saturated (the catalog's pool full, the hot row's lock queue full), the
rate at which it answers successfully is its capacity, whatever is offered beyond it. The
scenario's load factors are set against that rate, so the excess is the factor however fast
the database runs today (on a shared machine it moved by a third within minutes of its
calibration). Offered x factor also finds capacity from below: while the offer is under it,
every answer succeeds and the next offer is the factor higher."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from scenarios.calibration import Calibration
from services.load_generator.stats import Kind

# Live capacity is trusted within these multiples of the calibration: outside them the
# storefront is broken rather than slow, and sizing traffic from it would hide that.
TRUSTED = (0.25, 4.0)


@dataclass
class Throughput:
    window_s: float = 20.0
    done: dict[Kind, deque[float]] = field(default_factory=dict)

    def record(self, kind: Kind, ok: bool, at: float) -> None:
        if ok and kind is not Kind.OTHER:
            times = self.done.setdefault(kind, deque())
            times.append(at)
            while times and times[0] < at - self.window_s:
                times.popleft()

    def rate(self, kind: Kind, now: float, since: float) -> float | None:
        """Successes per second over the window, counted from `since` (when the resource
        became saturated); None until half a window has passed since then."""
        span = min(self.window_s, now - since)
        if span < self.window_s / 2:
            return None
        times = self.done.get(kind, deque())
        return sum(1 for t in times if now - span <= t <= now) / span


@dataclass(frozen=True)
class LiveCapacity:
    """A calibration with the rates measured live in place of the calibrated ones."""

    calibration: Calibration
    catalog_qps: float | None = None
    lock_per_s: float | None = None

    def effective(self) -> Calibration:
        cal = self.calibration
        return replace(cal, catalog_capacity_qps=_trusted(self.catalog_qps, cal.catalog_capacity_qps),
                       lock_throughput_per_s=_trusted(self.lock_per_s, cal.lock_throughput_per_s))

    def as_status(self) -> dict[str, float | None]:
        cal = self.effective()
        return {"catalog_listings_per_s": _round(self.catalog_qps),
                "checkouts_per_s": _round(self.lock_per_s),
                "catalog_as_calibrated": _round(self.calibration.catalog_capacity_qps),
                "checkouts_as_calibrated": _round(self.calibration.lock_throughput_per_s),
                "catalog_used": _round(cal.catalog_capacity_qps),
                "checkouts_used": _round(cal.lock_throughput_per_s)}


def _trusted(live: float | None, calibrated: float) -> float:
    if live is None:
        return calibrated
    low, high = TRUSTED
    return min(high * calibrated, max(low * calibrated, live))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
