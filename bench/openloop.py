"""What the benchmarks send through the open-loop driver (services.calibration.driver, which
calibration uses too): the storefront requests as the load generator sends them, and the
services they are sent to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg

from bench.context import BenchContext
from rehearsal.stack import LocalStack
from services.calibration.driver import Request
from services.load_generator.config import Settings as LoadgenSettings
from services.load_generator.requests import listing_params as journey_listing_params

SERVICES = ("product-catalog", "checkout")


def ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a is not None and b else None


# --- the storefront requests, as the load generator's journeys send them ---------------------

def listing_params(categories: Sequence[str], slot: int) -> dict[str, Any]:
    """The load generator's listing pages, with its default price window and ceiling."""
    fields = LoadgenSettings.model_fields
    return journey_listing_params(categories, slot, float(fields["loadgen_price_window"].default),
                                  float(fields["loadgen_price_ceiling"].default))


def listing(catalog_url: str, categories: Sequence[str], slot: int, due: float = 0.0) -> Request:
    return Request(due, "catalog", "GET", f"{catalog_url}/products", params=listing_params(categories, slot))


def checkout(checkout_url: str, product_id: int, customer: str, due: float = 0.0) -> Request:
    body = {"customer_id": customer, "items": [{"product_id": product_id, "quantity": 1}]}
    return Request(due, "checkout", "POST", f"{checkout_url}/checkout", body=body)


def categories(catalog_url: str) -> list[str]:
    response = httpx.get(f"{catalog_url}/categories", timeout=60)
    response.raise_for_status()
    return [str(c) for c in response.json()]


def in_stock_products(conninfo: str, count: int, min_stock: int = 10) -> list[int]:
    """`count` distinct non-doorbuster products with stock to sell, spread over the catalog in a
    fixed order (so every run picks the same ones, unless earlier runs sold them down)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id FROM products WHERE NOT is_doorbuster AND stock_quantity >= %s "
            "ORDER BY (id * 7919) %% 1000003, id LIMIT %s", [min_stock, count]).fetchall()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} in-stock products for the {count} checkouts wanted")
    return [int(r[0]) for r in rows]


def doorbuster(conninfo: str) -> int:
    """The hottest doorbuster: the first one, as the load generator's rush targets it."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT min(id) FROM products WHERE is_doorbuster").fetchone()
    if row is None or row[0] is None:
        raise RuntimeError("the catalog has no doorbuster")
    return int(row[0])


@contextmanager
def services(ctx: BenchContext, name: str, config: dict[str, str],
             extra: dict[str, str] | None = None) -> Iterator[LocalStack]:
    """Product catalog and checkout as real processes (`python -m services`), stopped on exit."""
    stack = LocalStack(ctx.workdir / name, ctx.pg)
    try:
        for service in SERVICES:
            stack.start(service, stack.service_env(config, extra))
        stack.wait_ready(SERVICES)
        yield stack
    finally:
        stack.stop_all()
