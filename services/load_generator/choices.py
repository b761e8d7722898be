"""Deciding each journey at launch: deterministic choices in arrival order, with no random():
a smooth weighted round-robin over the stage's mix, error diffusion for the traffic's fractional
step counts, and which shoppers wait for a doorbuster's go-live."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from scenarios.calibration import Calibration
from scenarios.intensity import go_live_burst, intensity, opening_listings
from scenarios.model import JOURNEYS
from services.load_generator.programs import Arrival, Moment


@dataclass
class SmoothRoundRobin:
    """Nginx's smooth weighted round-robin: picks follow the weights, evenly interleaved."""

    current: dict[str, float] = field(default_factory=dict)

    def pick(self, weights: Mapping[str, float]) -> str:
        total = sum(w for w in weights.values() if w > 0)
        if total <= 0:
            raise ValueError("journey weights must include a positive share")
        for name in JOURNEYS:
            self.current[name] = self.current.get(name, 0.0) + max(0.0, weights.get(name, 0.0))
        chosen = max(JOURNEYS, key=lambda name: self.current[name])
        self.current[chosen] -= total
        return chosen


@dataclass
class Diffuser:
    """Spreads a fractional per-journey count over journeys: 1.5 gives 1, 2, 1, 2, ..."""

    carry: float = 0.0

    def take(self, value: float) -> int:
        total = self.carry + max(0.0, value)
        whole = math.floor(total + 1e-9)
        self.carry = total - whole
        return whole


@dataclass(frozen=True)
class JourneySpec:
    arrival: Arrival
    kind: str
    moment: Moment
    listing_slots: tuple[int, ...]            # which category/price window each page views
    doorbuster_slots: tuple[int, ...] | None  # None: a normal order; else one slot per order
    customer_id: str
    # Set for shoppers who put the doorbuster in their cart and check out when it goes live.
    wait_until: float | None = None


@dataclass
class JourneyChooser:
    """Decides each journey at launch; deterministic for a given sequence of arrivals."""

    calibration: Calibration | None
    replica_index: int = 0
    chooser: SmoothRoundRobin = field(default_factory=SmoothRoundRobin)
    pages: Diffuser = field(default_factory=Diffuser)
    orders: Diffuser = field(default_factory=Diffuser)
    listings: int = 0
    doorbuster_orders: int = 0
    replicas: int = 1
    waiters: dict[float, int] = field(default_factory=dict)
    opened: set[int] = field(default_factory=set)  # stages whose opening burst was decided

    def _waits(self, kind: str, arrival: Arrival, moment: Moment) -> float | None:
        """Cart-building shoppers who arrive in the last stretch before a go-live wait for it.
        The stretch holds the burst the stage asks for at the current rate of such shoppers."""
        if moment.go_live is None or moment.go_live_stage is None or kind == "browse_only":
            return None
        burst = go_live_burst(moment.go_live_stage, self.calibration, *moment.pool,
                              moment.minute_seconds) / self.replicas
        carts_per_s = moment.total_rpm / self.replicas / 60 * (
            moment.stage.mix.browse_and_cart + moment.stage.mix.full_checkout)
        if burst < 1 or carts_per_s <= 0 or arrival.at < moment.go_live - burst / carts_per_s:
            return None
        if self.waiters.get(moment.go_live, 0) >= round(burst):
            return None
        self.waiters[moment.go_live] = self.waiters.get(moment.go_live, 0) + 1
        return moment.go_live

    def _opening(self, arrival: Arrival, moment: Moment) -> int:
        """Extra pages for the first shopper of a stage with an opening burst, this replica's
        share; none for a generator that joins (or restarts) after the stage opened."""
        stage = moment.stage
        if stage.opening_burst is None or stage.from_minute in self.opened:
            return 0
        self.opened.add(stage.from_minute)
        interval = 60.0 * self.replicas / moment.total_rpm if moment.total_rpm > 0 else 0.0
        if arrival.at - moment.stage_opened > interval:
            return 0
        return round(opening_listings(stage, self.calibration) / self.replicas)

    def choose(self, arrival: Arrival, moment: Moment) -> JourneySpec:
        kind = self.chooser.pick(moment.stage.mix.shares())
        steps = intensity(moment.stage, moment.total_rpm, self.calibration)
        pages = max(1, self.pages.take(steps.catalog_pages)) + self._opening(arrival, moment)
        listing = tuple(range(self.listings, self.listings + pages))
        self.listings += pages
        doorbusters: tuple[int, ...] | None = None
        if kind == "full_checkout" and steps.doorbuster_checkouts > 0:
            n = self.orders.take(steps.doorbuster_checkouts)
            doorbusters = tuple(range(self.doorbuster_orders, self.doorbuster_orders + n))
            self.doorbuster_orders += n
        customer = f"shopper-{self.replica_index}-{arrival.seq}"
        return JourneySpec(arrival, kind, moment, listing, doorbusters, customer,
                           wait_until=self._waits(kind, arrival, moment))
