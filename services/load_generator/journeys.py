"""Shopper journeys: the steps against the storefront, as chosen at launch (choices.py). Steps follow
each other after the scenario's think time; a landing page's carousels load together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from opentelemetry import baggage, context
from opentelemetry.metrics import Counter
from opentelemetry.trace import Tracer

from services.load_generator.choices import JourneySpec
from services.load_generator.client import Answer, Storefront, Visit
from services.load_generator.config import Settings
from services.load_generator.requests import listing_params, order_body
from services.load_generator.stats import Kind


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
    counter: Counter | None = None  # loadgen.journeys, by journey kind

    async def run(self, spec: JourneySpec) -> None:
        if self.counter is not None:
            self.counter.add(1, {"journey": spec.kind})
        if spec.watchers:
            await asyncio.gather(self._journey(spec), *(self._watch(spec, i) for i in range(spec.watchers)))
        else:
            await self._journey(spec)

    async def _journey(self, spec: JourneySpec) -> None:
        visit = Visit(spec.arrival.at)
        token = context.attach(baggage.set_baggage("synthetic_request", "true"))
        try:
            with self.tracer.start_as_current_span(
                f"user_journey.{spec.kind}", start_time=int(spec.arrival.at * 1e9),
                attributes={**spec.moment.labels, "synthetic_request": True,
                            "journey.type": spec.kind, "journey.seq": spec.arrival.seq,
                            "journey.pages": len(spec.listing_slots),
                            "journey.doorbuster_orders": len(spec.doorbuster_slots or ()),
                            "journey.waits_for_go_live": spec.wait_until is not None},
            ) as span:
                span.set_attribute("journey.completed", await self._steps(spec, visit))
        finally:
            context.detach(token)

    async def _watch(self, spec: JourneySpec, index: int) -> None:
        """A shopper with the deals page open, reloading it as soon as it answers, for as long
        as the stage has watchers: one trace per reload."""
        clock, program, base = self.storefront.clock, self.storefront.program, self.settings.product_catalog_url
        token = context.attach(baggage.set_baggage("synthetic_request", "true"))
        try:
            slot = index
            while (moment := program.moment(clock.now())).stage.deal_watchers is not None:
                visit = Visit(clock.now())
                with self.tracer.start_as_current_span(
                    "user_journey.deal_watch", attributes={
                        **moment.labels, "synthetic_request": True, "journey.type": "deal_watch",
                        "journey.seq": spec.arrival.seq, "journey.watcher": index}):
                    categories = await self.shelf.get("categories", partial(
                        self.storefront.call, visit, "GET", base, "/categories"))
                    if not categories:
                        await self._think()  # the catalog is down: look again after a while
                        continue
                    await self.storefront.call(visit, "GET", base, "/products", kind=Kind.CATALOG_LISTING,
                                               params=self._listing_params(categories, slot))
                slot += spec.watchers
        finally:
            context.detach(token)

    async def _think(self) -> None:
        # Think time between a shopper's steps: it paces the journey, never a request's fate.
        await asyncio.sleep(self.think_seconds)

    async def _steps(self, spec: JourneySpec, visit: Visit) -> bool:
        if spec.wait_until is not None:
            return await self._wait_for_go_live(spec, visit)
        if spec.doorbuster_slots is not None:
            # Doorbuster hunters go straight for the deal, then browse the rest of the sale,
            # whether or not they got it: the catalog's load is not made lighter by the
            # checkout's failures (it was: the crowd's listings failed 25 % instead of 44 %).
            ordered = await self._doorbusters(spec, visit)
            await self._think()
            return await self._browse(spec, visit) is not None and ordered
        product = await self._browse(spec, visit)
        if product is None or spec.kind == "browse_only":
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
        return listing_params(categories, slot, self.settings.loadgen_price_window,
                              self.settings.loadgen_price_ceiling)

    async def _browse(self, spec: JourneySpec, visit: Visit) -> dict[str, Any] | None:
        base = self.settings.product_catalog_url
        categories = await self.shelf.get(
            "categories", lambda: self.storefront.call(visit, "GET", base, "/categories"))
        if not categories:
            return None
        # The deals landing page loads its category carousels at once, one listing each: the
        # catalog load arrives with the shopper, not paced by the answers of earlier pages.
        pages = await asyncio.gather(*(
            self.storefront.call(visit, "GET", base, "/products", kind=Kind.CATALOG_LISTING,
                                 params=self._listing_params(categories, slot))
            for slot in spec.listing_slots))
        found = next(((p.body or {}).get("products") for p in pages if p.ok and (p.body or {}).get("products")),
                     None)
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

    async def _wait_for_go_live(self, spec: JourneySpec, visit: Visit) -> bool:
        """Doorbuster in the cart now, "buy" the moment it goes live (the demo clock)."""
        deals = await self.shelf.get("doorbusters", lambda: self.storefront.call(
            visit, "GET", self.settings.product_catalog_url, "/products/doorbusters"))
        if not deals:
            return False
        deal = deals[spec.arrival.seq % min(len(deals), self.settings.loadgen_doorbuster_targets)]
        # While putting the doorbuster in the cart they browse the deals like everyone else,
        # so the catalog load does not depend on how many shoppers wait (which would make it
        # depend on the minute's length); a slow or failed page does not stop them.
        browsing = asyncio.ensure_future(self._browse(spec, visit))
        cart = await self._cart(visit, deal)
        await browsing
        if cart is None or spec.wait_until is None:
            return False
        delay = spec.wait_until - self.storefront.clock.now()
        if delay > 0:
            await asyncio.sleep(delay)
        answer = await self.storefront.call(
            Visit(spec.wait_until, first_pending=False), "POST", self.settings.checkout_url, "/checkout",
            kind=Kind.CHECKOUT, intended=spec.wait_until,
            body={"customer_id": spec.customer_id, "cart_id": cart["cart_id"],
                  "expected_total": str(cart["total"])})
        return answer.ok

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
            kind=Kind.CHECKOUT, intended=at, body=order_body(spec.customer_id, deal))
        return answer.ok
