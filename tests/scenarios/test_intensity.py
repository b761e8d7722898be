"""The per-journey arithmetic that turns a stage and a calibration into offered load."""

from __future__ import annotations

from scenarios.blackfriday import BLACKFRIDAY, SALE_MIX
from scenarios.intensity import cart_checkouts_per_s
from scenarios.model import Stage


def test_a_sales_cart_checkouts_follow_its_rate_and_mix() -> None:
    sale = Stage(15, "sale", SALE_MIX, catalog_overload=1.05)
    assert cart_checkouts_per_s(sale, 120.0) == 120.0 / 60 * SALE_MIX.full_checkout
    assert cart_checkouts_per_s(sale, 0.0) == 0.0


def test_a_rushs_full_carts_hold_doorbusters_not_ordinary_orders() -> None:
    rush = BLACKFRIDAY.traffic.stage_at(20)
    assert rush.checkout_overload is not None
    assert cart_checkouts_per_s(rush, 120.0) == 0.0
