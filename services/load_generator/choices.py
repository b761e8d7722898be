"""Deciding each journey at launch: deterministic choices in arrival order, with no random():
a smooth weighted round-robin over the stage's mix, error diffusion for the traffic's fractional
step counts, and which shoppers wait for a doorbuster's go-live."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from scenarios.calibration import Calibration
from scenarios.intensity import deal_watchers, go_live_burst, intensity, opening_listings
from scenarios.model import JOURNEYS
from services.load_generator.programs import Arrival, Moment
from services.load_generator.stats import Kind
from services.load_generator.throughput import LiveCapacity, Throughput


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
    # Deal-page watchers this shopper brings along (the first of a watched stretch).
    watchers: int = 0


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
    meter: Throughput | None = None
    # When this generator first saw the catalog, and the hot row, saturated; None: not now.
    catalog_since: float | None = None
    rush_since: float | None = None
    first_arrival: float | None = None  # this generator's first: it measured nothing before
    watched: bool = False
    live: LiveCapacity | None = None
    # What sized each demo minute's journeys (the last choice made in it).
    sized: dict[int, LiveCapacity] = field(default_factory=dict)
    estimates: dict[Kind, float] = field(default_factory=dict)  # live, all replicas

    def _capacity(self, arrival: Arrival, moment: Moment) -> Calibration | None:
        """The calibration, with the rates measured live in place of it where the stage
        saturates what they measure (all replicas: each sees its share of the answers)."""
        stage, now = moment.stage, arrival.at
        self.first_arrival = self.first_arrival or now
        # From the stage's opening, not its first arrival (up to an arrival interval later):
        # the go-live burst's orders are sent at the opening itself and are the queue the hot
        # row's early rate needs. Not before this generator ran: it saw nothing then.
        opened = max(moment.stage_opened, self.first_arrival)
        self.catalog_since = (self.catalog_since or opened) if stage.saturates_catalog else None
        self.rush_since = (self.rush_since or opened) if stage.checkout_overload is not None else None
        if self.calibration is None or self.meter is None:
            return self.calibration
        catalog = self._estimate(Kind.CATALOG_LISTING, now, self.catalog_since, stage.deal_watchers is not None)
        lock = self._estimate(Kind.CHECKOUT, now, self.rush_since, False)
        self.live = LiveCapacity(self.calibration, catalog, lock)
        if arrival.minute is not None:
            self.sized[arrival.minute] = self.live
        return self.live.effective()

    def _estimate(self, kind: Kind, now: float, since: float | None, held: bool) -> float | None:
        """The capacity of what `kind` measures, all replicas, or None: not saturated now, or
        not long enough to tell. Its successes are the capacity while it turns requests away
        or a closed population holds it full; otherwise only a floor, so a window's dip does
        not lower the estimate (the lower offer would drain the queue and lower it again)."""
        if since is None or self.meter is None:
            self.estimates.pop(kind, None)
            return None
        rate = self.meter.rate(kind, now, since)
        last = self.estimates.get(kind)
        if rate is None:
            return last
        rate *= self.replicas
        if not self.meter.windowed(kind, now, since):
            # The first successes' spacing replaces the calibration from the rush's first
            # minute, but is no floor for the window after it: a few answers can be a burst.
            return rate
        if not (held or self.meter.turned_away(kind, now, since)) and last is not None:
            rate = max(rate, last)
        self.estimates[kind] = rate
        return rate

    def _watchers(self, moment: Moment, calibration: Calibration | None) -> int:
        """This replica's deal-page watchers, brought by the first shopper of a watched stretch
        (also when the generator joins mid-stretch); they leave when the stretch ends."""
        if moment.stage.deal_watchers is None:
            self.watched = False
            return 0
        if self.watched:
            return 0
        self.watched = True
        return math.ceil(deal_watchers(moment.stage, calibration, moment.pool[0]) / self.replicas)

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
        capacity = self._capacity(arrival, moment)
        steps = intensity(moment.stage, moment.total_rpm, capacity)
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
                           wait_until=self._waits(kind, arrival, moment),
                           watchers=self._watchers(moment, self.calibration))
