"""Scenario definitions as typed data: the single source of truth for the Pulumi program,
the local runner, the load generator and the services' demo clock."""

from __future__ import annotations

import math
from dataclasses import dataclass

JOURNEYS = ("browse_only", "browse_and_cart", "full_checkout")


@dataclass(frozen=True)
class Phase:
    name: str
    start_minute: int
    end_minute: int
    description: str


@dataclass(frozen=True)
class JourneyMix:
    """Share of journeys of each kind; the shares add up to 1."""

    browse_only: float
    browse_and_cart: float
    full_checkout: float

    def shares(self) -> dict[str, float]:
        return {
            "browse_only": self.browse_only,
            "browse_and_cart": self.browse_and_cart,
            "full_checkout": self.full_checkout,
        }


@dataclass(frozen=True)
class Stage:
    """What shoppers do from `from_minute` on. Load factors are offered load divided by the
    capacity measured by calibration; None keeps the quiet-day behaviour."""

    from_minute: int
    name: str
    mix: JourneyMix
    # Offered catalog scan work over the catalog's capacity (deal hunters page through
    # listings). The capacity is the one the load generator measures live, as the listings
    # it gets through per second while the catalog is saturated; calibration gives the first
    # estimate. So the excess is this ratio however fast the database runs today.
    catalog_overload: float | None = None
    # Offered doorbuster checkouts over the hot row's throughput, measured live as above.
    checkout_overload: float | None = None
    # Shoppers who keep the deals page open and reload it as soon as it answers, a closed
    # population: the catalog pool's connections plus this many seconds of its calibrated
    # capacity. The pool is always full and each waits for the others, so listings take
    # about (pool / capacity + this) seconds, slow at any database speed, and never wait
    # past the pool's timeout (an open offer near capacity is slow only if it is past it).
    deal_watchers: float | None = None
    # Shoppers who wait with the doorbuster in their cart and all click "buy" when this stage
    # opens, as a multiple of what the checkout pool absorbs (its connections, plus the
    # requests its timeout lets wait). It puts the pool in the exhausted regime at once,
    # in real seconds, however long a demo minute lasts.
    go_live_burst: float | None = None
    # Listings that arrive together as this stage opens, in seconds of the catalog's measured
    # capacity: shoppers who waited for the sale's announcement open its deals at once. The
    # catalog's queue then starts that deep, in real seconds, however long a demo minute lasts.
    opening_burst: float | None = None

    @property
    def saturates_catalog(self) -> bool:
        """Whether this stage's shoppers keep the catalog's database at capacity."""
        return self.catalog_overload is not None or self.deal_watchers is not None


@dataclass(frozen=True)
class Traffic:
    """Journeys started per minute (RPM), as a piecewise-linear curve over demo minutes."""

    rpm_points: tuple[tuple[int, float], ...]
    stages: tuple[Stage, ...]
    baseline_rpm: float = 12.0
    think_time_seconds: float = 1.0

    def target_rpm(self, minute: float) -> float:
        pts = self.rpm_points
        if minute <= pts[0][0]:
            return pts[0][1]
        for (m0, r0), (m1, r1) in zip(pts, pts[1:], strict=False):
            if m0 <= minute <= m1:
                return r0 + (r1 - r0) * (minute - m0) / (m1 - m0)
        return pts[-1][1]

    def stage_at(self, minute: float) -> Stage:
        current = self.stages[0]
        for stage in self.stages:
            if minute >= stage.from_minute:
                current = stage
        return current


@dataclass(frozen=True)
class ConfigChange:
    key: str
    baseline: str
    scenario: str
    reason: str


@dataclass(frozen=True)
class AlertRule:
    """The seed's flow alert: the catalog's p95 and the share of checkouts failing, each taken
    over the last `window_minutes` demo minutes, both above their thresholds and still so
    `hold_minutes` later. The window gives the ratio enough checkouts to mean something (a
    compressed demo minute holds a dozen); the hold keeps one burst of failures from firing it
    on its own: the failures must go on."""

    name: str
    window_minutes: int
    hold_minutes: int
    checkout_error_rate_gt: float
    catalog_p95_ms_gt: float
    span_conditions: tuple[str, ...]


@dataclass(frozen=True)
class ExpectedEvent:
    minute: float
    earliest: float
    latest: float
    what: str
    # The event the scenario's alert rule marks; validate() requires exactly one.
    fires_alert: bool = False


@dataclass(frozen=True)
class Targets:
    """What a rehearsal's report must show for the demo to hit its marks. Minute ranges are
    half-open, as phases are: (0, 15) is minutes 0 through 14."""

    rpm_tolerance: float  # worst |achieved - target| / target in any demo minute
    error_free: tuple[int, int]  # no failed request in these minutes
    slow_catalog: tuple[int, int]  # catalog p95 at or above the alert threshold in each minute
    healthy_checkout: tuple[int, int]  # checkout failure rate below healthy_max over these minutes
    healthy_max: float
    failing_checkout: tuple[int, int]  # checkout failure rate near failing_rate over these minutes
    failing_rate: float
    failing_tolerance: float  # in points of rate: 0.10 is +/- 10 points
    # Slow, not failing: in each of these minutes at most degraded_max of all requests fail.
    degraded: tuple[int, int] = (0, 1)
    degraded_max: float = 0.10
    # Share of all requests (every service) failing over failing_checkout, as (low, high).
    failing_requests: tuple[float, float] = (0.0, 1.0)
    # The seed's order: from `degraded` on, the first minute in which more than degraded_max of
    # the checkouts fail comes before the first such minute of the catalog's listings.
    checkouts_fail_first: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    duration_minutes: int
    phases: tuple[Phase, ...]
    traffic: Traffic
    config: tuple[ConfigChange, ...]
    # Package resources under scenarios/sql (see scenarios.scripts), run as psql runs a file.
    break_sql: str
    restore_sql: str
    dropped_indexes: tuple[str, ...]
    alert: AlertRule
    timeline: tuple[ExpectedEvent, ...]
    targets: Targets | None = None
    doorbusters: int = 3

    def phase_at(self, minute: float) -> Phase:
        for phase in self.phases:
            if phase.start_minute <= minute < phase.end_minute:
                return phase
        return self.phases[-1] if minute >= self.duration_minutes else self.phases[0]

    def config_values(self, *, scenario_active: bool) -> dict[str, str]:
        return {c.key: (c.scenario if scenario_active else c.baseline) for c in self.config}

    def pool(self) -> tuple[int, float]:
        """The services' pool while the scenario is applied: connections, timeout in seconds."""
        config = self.config_values(scenario_active=True)
        return int(config.get("DB_MAX_CONNECTIONS", 0)), float(config.get("DB_CONNECTION_TIMEOUT", 0))

    def alert_event(self) -> ExpectedEvent:
        return next(e for e in self.timeline if e.fires_alert)


def demo_minute(now: float, start: float, minute_seconds: float) -> int:
    """The demo minute every service agrees on: whole minutes since the stamped start."""
    return max(0, math.floor((now - start) / minute_seconds))
