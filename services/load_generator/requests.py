"""What a shopper sends, as data: the listing page a slot views and the order for a deal. The
journeys send these; calibration measures its capacities with exactly these (a test compares
what each puts on the wire), so what it measures is what the demo offers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def listing_params(categories: Sequence[str], slot: int, width: float, ceiling: float) -> dict[str, Any]:
    """The catalog page a listing slot views: categories in turn, price windows of `width` up
    to `ceiling`, so consecutive slots spread over the catalog."""
    windows = max(1, math.ceil(ceiling / width))
    window = (slot + slot // len(categories)) % windows
    return {"category": categories[slot % len(categories)], "price_min": window * width,
            "price_max": (window + 1) * width, "limit": 20}


def order_body(customer_id: str, product: Mapping[str, Any]) -> dict[str, Any]:
    """A one-item order placed straight from the product page (the doorbuster hunters' order)."""
    return {"customer_id": customer_id, "expected_total": str(product["price"]),
            "items": [{"product_id": product["id"], "quantity": 1}]}
