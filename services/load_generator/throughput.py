"""The capacity the storefront shows now: successful answers per real second over a sliding
window, by kind, as this generator sees them.

While a resource is saturated (the catalog's pool full, the hot row's lock queue full), the
rate at which it answers successfully is its capacity, whatever is offered beyond it. The
scenario's load factors are set against that rate, so the excess is the factor however fast
the database runs today (on a shared machine it moved by a third within minutes of its
calibration). While nothing is turned away the rate is only a floor under the capacity: the
estimate then does not fall, and offered x factor finds the capacity from below."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from scenarios.calibration import Calibration
from services.load_generator.stats import Kind

# Live capacity is trusted within these multiples of the calibration: outside them the
# storefront is broken rather than slow, and sizing traffic from it would hide that.
TRUSTED = (0.25, 4.0)

# Before half its window has passed since saturation, a kind listed here is rated from the
# spacing of its first successes once this many have come. The hot row's window is 40 s: half
# of it is two demo minutes at 10-s minutes, and the rush was sized from the calibration till
# then (one run: calibrated 0.39/s, live 0.6/s, the rush under-sized and the alert late). Five
# answers at some 0.5/s come within the rush's first 10-s minute; their spacing is what
# calibration's own hot-row round counts (driver.steady_rate). Not the catalog: its window's
# half is one such minute, and a few of its many answers a second would span a fraction of one.
EARLY_SUCCESSES = {Kind.CHECKOUT: 5}


def _windows() -> dict[Kind, float]:
    # The hot row answers well under one checkout a second: 40 s holds some 25 of them (20 s
    # held 12, and one window's dip cut the offer under capacity for minutes, measured).
    return {Kind.CATALOG_LISTING: 20.0, Kind.CHECKOUT: 40.0}


@dataclass
class Throughput:
    windows: dict[Kind, float] = field(default_factory=_windows)
    done: dict[Kind, deque[float]] = field(default_factory=dict)
    # Requests turned away (5xx, timeouts): while there are some, the successes are capacity.
    refused: dict[Kind, deque[float]] = field(default_factory=dict)
    sent: dict[Kind, deque[float]] = field(default_factory=dict)

    def started(self, kind: Kind, at: float) -> None:
        if kind in EARLY_SUCCESSES:
            self._add(self.sent, kind, at)

    def record(self, kind: Kind, status: int | None, at: float) -> None:
        if kind not in self.windows:
            return
        if status is not None and 200 <= status < 300:
            self._add(self.done, kind, at)
        elif status is None or status >= 500:
            self._add(self.refused, kind, at)

    def _add(self, log: dict[Kind, deque[float]], kind: Kind, at: float) -> None:
        times = log.setdefault(kind, deque())
        times.append(at)
        while times and times[0] < at - self.windows[kind]:
            times.popleft()

    def _span(self, kind: Kind, now: float, since: float) -> float | None:
        window = self.windows.get(kind, 0.0)
        span = min(window, now - since)
        return span if window and span >= window / 2 else None

    def rate(self, kind: Kind, now: float, since: float) -> float | None:
        """Successes per second over the window, counted from `since` (when the resource
        became saturated); until half a window has passed since then, the early rate or None."""
        span = self._span(kind, now, since)
        if span is None:
            return self._early(kind, now, since)
        return sum(1 for t in self.done.get(kind, ()) if now - span <= t <= now) / span

    def windowed(self, kind: Kind, now: float, since: float) -> bool:
        """Whether rate() counts a window (half of one at least) rather than early spacing."""
        return self._span(kind, now, since) is not None

    def _early(self, kind: Kind, now: float, since: float) -> float | None:
        """Successes since `since` per second from the spacing of the first and last of them:
        over a few seconds a count is off by up to one answer in it, the spacing is not.
        None until EARLY_SUCCESSES of them have come (or for a kind not rated early)."""
        needed = EARLY_SUCCESSES.get(kind)
        done = [t for t in self.done.get(kind, ()) if since <= t <= now]
        if needed is None or len(done) < needed or done[-1] <= done[0]:
            return None
        # Only a queue makes the spacing a capacity: answers that keep up with their offer
        # are spaced as it is, and sizing the rush from them would raise it without end.
        answered = len(done) + sum(1 for t in self.refused.get(kind, ()) if since <= t <= now)
        if sum(1 for t in self.sent.get(kind, ()) if since <= t <= now) - answered < needed:
            return None
        return (len(done) - 1) / (done[-1] - done[0])

    def turned_away(self, kind: Kind, now: float, since: float) -> bool:
        """Whether any request of `kind` was refused over the window counted from `since`."""
        span = self._span(kind, now, since) or 0.0
        return any(now - span <= t <= now for t in self.refused.get(kind, ()))


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
