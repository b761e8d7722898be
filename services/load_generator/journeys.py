"""Shopper journeys: deterministic choices at launch, then the steps against the storefront.

Choices (journey type, pages, doorbuster orders) are made in arrival order, with no random():
a smooth weighted round-robin over the stage's mix, and error diffusion for the plan's
fractional step counts. Steps follow each other after the plan's think time."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import baggage, context
from opentelemetry.trace import Tracer

from scenarios.intensity import Calibration, intensity
from scenarios.model import JOURNEYS
from services.load_generator.client import Answer, Storefront, Visit
from services.load_generator.config import Settings
from services.load_generator.plan import Arrival, Moment
from services.load_generator.stats import Kind


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


@dataclass
class JourneyPlanner:
    """Decides each journey at launch; deterministic for a given sequence of arrivals."""

    calibration: Calibration | None
    replica_index: int = 0
    chooser: SmoothRoundRobin = field(default_factory=SmoothRoundRobin)
    pages: Diffuser = field(default_factory=Diffuser)
    orders: Diffuser = field(default_factory=Diffuser)
    listings: int = 0
    doorbuster_orders: int = 0

    def plan(self, arrival: Arrival, moment: Moment) -> JourneySpec:
        kind = self.chooser.pick(moment.stage.mix.shares())
        steps = intensity(moment.stage, moment.total_rpm, self.calibration)
        pages = max(1, self.pages.take(steps.catalog_pages))
        listing = tuple(range(self.listings, self.listings + pages))
        self.listings += pages
        doorbusters: tuple[int, ...] | None = None
        if kind == "full_checkout" and steps.doorbuster_checkouts > 0:
            n = self.orders.take(steps.doorbuster_checkouts)
            doorbusters = tuple(range(self.doorbuster_orders, self.doorbuster_orders + n))
            self.doorbuster_orders += n
        customer = f"shopper-{self.replica_index}-{arrival.seq}"
        return JourneySpec(arrival, kind, moment, listing, doorbusters, customer)


@dataclass
class Shelf:
    """Facts fetched once per run by the first journey that needs them (and retried on failure)."""

    items: dict[str, Any] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, name: str, fetch: Callable[[], Awaitable[Answer]]) -> Any:
        async with self.lock:
            if not self.items.get(name):
                answer = await fetch()
                if answer.ok and answer.body:
                    self.items[name] = answer.body
            return self.items.get(name)


@dataclass
class JourneyRunner:
    storefront: Storefront
    settings: Settings
    tracer: Tracer
    think_seconds: float
    shelf: Shelf = field(default_factory=Shelf)

    async def run(self, spec: JourneySpec) -> None:
        visit = Visit(spec.arrival.at)
        token = context.attach(baggage.set_baggage("synthetic_request", "true"))
        try:
            with self.tracer.start_as_current_span(
                f"user_journey.{spec.kind}", start_time=int(spec.arrival.at * 1e9),
                attributes={**spec.moment.labels, "synthetic_request": True,
                            "journey.type": spec.kind, "journey.seq": spec.arrival.seq,
                            "journey.pages": len(spec.listing_slots),
                            "journey.doorbuster_orders": len(spec.doorbuster_slots or ())},
            ) as span:
                span.set_attribute("journey.completed", await self._steps(spec, visit))
        finally:
            context.detach(token)

    async def _think(self) -> None:
        # Think time between a shopper's steps: it paces the journey, never a request's fate.
        await asyncio.sleep(self.think_seconds)

    async def _steps(self, spec: JourneySpec, visit: Visit) -> bool:
        if spec.doorbuster_slots is not None:
            # Doorbuster hunters go straight for the deal, then browse the rest of the sale.
            if not await self._doorbusters(spec, visit):
                return False
            await self._think()
        product = await self._browse(spec, visit)
        if product is None or spec.kind == "browse_only" or spec.doorbuster_slots is not None:
            return product is not None
        await self._think()
        cart = await self._cart(visit, product)
        if cart is None or spec.kind == "browse_and_cart":
            return cart is not None
        await self._think()
        answer = await self.storefront.call(
            visit, "POST", self.settings.checkout_url, "/checkout", kind=Kind.CHECKOUT,
            body={"customer_id": spec.customer_id, "cart_id": cart["cart_id"],
                  "expected_total": str(cart["total"])})
        return answer.ok

    def _listing_params(self, categories: list[str], slot: int) -> dict[str, Any]:
        width, ceiling = self.settings.loadgen_price_window, self.settings.loadgen_price_ceiling
        windows = max(1, math.ceil(ceiling / width))
        window = (slot + slot // len(categories)) % windows
        return {"category": categories[slot % len(categories)], "price_min": window * width,
                "price_max": (window + 1) * width, "limit": 20}

    async def _browse(self, spec: JourneySpec, visit: Visit) -> dict[str, Any] | None:
        base = self.settings.product_catalog_url
        categories = await self.shelf.get(
            "categories", lambda: self.storefront.call(visit, "GET", base, "/categories"))
        if not categories:
            return None
        found: list[dict[str, Any]] = []
        for i, slot in enumerate(spec.listing_slots):
            if i:
                await self._think()
            page = await self.storefront.call(visit, "GET", base, "/products",
                                              kind=Kind.CATALOG_LISTING,
                                              params=self._listing_params(categories, slot))
            if not page.ok:
                return None
            found = (page.body or {}).get("products") or found
        if not found:
            return None
        await self._think()
        chosen = found[spec.arrival.seq % len(found)]
        detail = await self.storefront.call(visit, "GET", base, "/products/{id}",
                                            path=f"/products/{chosen['id']}")
        return detail.body if detail.ok else None

    async def _cart(self, visit: Visit, product: dict[str, Any]) -> dict[str, Any] | None:
        base = self.settings.cart_url
        created = await self.storefront.call(visit, "POST", base, "/carts")
        if not created.ok:
            return None
        cart_id = created.body["cart_id"]
        await self._think()
        added = await self.storefront.call(visit, "POST", base, "/carts/{id}/items",
                                           path=f"/carts/{cart_id}/items",
                                           body={"product_id": product["id"], "quantity": 1})
        if not added.ok:
            return None
        await self._think()
        cart = await self.storefront.call(visit, "GET", base, "/carts/{id}",
                                          path=f"/carts/{cart_id}")
        return cart.body if cart.ok else None

    async def _doorbusters(self, spec: JourneySpec, visit: Visit) -> bool:
        deals = await self.shelf.get("doorbusters", lambda: self.storefront.call(
            visit, "GET", self.settings.product_catalog_url, "/products/doorbusters"))
        if not deals:
            return False
        targets = deals[: self.settings.loadgen_doorbuster_targets]
        slots = spec.doorbuster_slots or ()
        # The orders go out on their own schedule over one think time, whatever the answers.
        start = visit.intended(self.storefront.clock.now())
        spacing = self.think_seconds / max(1, len(slots))
        orders = [self._order(spec, targets[slot % len(targets)], start + i * spacing)
                  for i, slot in enumerate(slots)]
        results = await asyncio.gather(*orders)
        return all(results)

    async def _order(self, spec: JourneySpec, deal: dict[str, Any], at: float) -> bool:
        delay = at - self.storefront.clock.now()
        if delay > 0:
            await asyncio.sleep(delay)
        answer = await self.storefront.call(
            Visit(at, first_pending=False), "POST", self.settings.checkout_url, "/checkout",
            kind=Kind.CHECKOUT, intended=at,
            body={"customer_id": spec.customer_id, "expected_total": str(deal["price"]),
                  "items": [{"product_id": deal["id"], "quantity": 1}]})
        return answer.ok
