"""Checkout: one transaction, atomic under concurrency, no trace left by failures."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from tests.dbutil import counts


def test_checkout_of_items_decrements_stock_and_records_the_order(checkout, db):
    stock_before = dict(db.execute("SELECT id, stock_quantity FROM products WHERE id IN (20, 21)").fetchall())
    with checkout.client() as c:
        r = c.post("/checkout", json={"customer_id": "c-1", "items": [
            {"product_id": 21, "quantity": 2}, {"product_id": 20, "quantity": 1}]})
    assert r.status_code == 201, r.text
    order = r.json()
    stock_after = dict(db.execute("SELECT id, stock_quantity FROM products WHERE id IN (20, 21)").fetchall())
    assert stock_after == {20: stock_before[20] - 1, 21: stock_before[21] - 2}
    lines = db.execute("SELECT product_id, quantity, unit_price FROM order_lines WHERE order_id = %s "
                       "ORDER BY product_id", [order["order_id"]]).fetchall()
    assert [(p, q) for p, q, _ in lines] == [(20, 1), (21, 2)]
    assert Decimal(order["total"]) == sum(q * price for _, q, price in lines)


def test_checkout_of_a_cart_consumes_the_cart(checkout, db):
    cart_id = db.execute("INSERT INTO carts DEFAULT VALUES RETURNING id").fetchone()[0]
    db.execute("INSERT INTO cart_items VALUES (%s, 30, 1), (%s, 31, 2)", [cart_id, cart_id])
    with checkout.client() as c:
        r = c.post("/checkout/create", json={"customer_id": "c-2", "cart_id": str(cart_id)})
        again = c.post("/checkout", json={"customer_id": "c-2", "cart_id": str(cart_id)})
    assert r.status_code == 201, r.text
    assert {line["product_id"] for line in r.json()["lines"]} == {30, 31}
    assert db.execute("SELECT count(*) FROM carts WHERE id = %s", [cart_id]).fetchone()[0] == 0
    assert again.status_code == 409 and again.json()["error"] == "empty_cart"


def test_parallel_checkouts_on_a_hot_product_never_oversell(checkout, db, hot_product):
    orders_before = db.execute("SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE product_id = %s",
                               [hot_product]).fetchone()[0]
    barrier = threading.Barrier(40)

    def buy(i: int) -> int:
        with httpx.Client(base_url=checkout.url, timeout=60) as c:
            barrier.wait()
            return c.post("/checkout", json={"customer_id": f"rush-{i}", "items": [
                {"product_id": hot_product, "quantity": 1}]}).status_code

    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(buy, range(40)))
    sold = statuses.count(201)
    left, received = db.execute("SELECT stock_quantity, stock_received FROM products WHERE id = %s",
                                [hot_product]).fetchone()
    sold_in_db = db.execute("SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE product_id = %s",
                            [hot_product]).fetchone()[0] - orders_before
    assert sold == 25 and statuses.count(409) == 15
    assert left == 0 and sold_in_db == sold
    assert left + sold_in_db == 25 and received - (left + sold_in_db) >= 0


@pytest.fixture
def out_of_stock_order(hot_product):
    return {"customer_id": "greedy", "items": [{"product_id": 5, "quantity": 1},
                                              {"product_id": hot_product, "quantity": 26}]}


def test_failed_checkout_leaves_no_trace(checkout, db, out_of_stock_order):
    before = counts(db)
    stock = dict(db.execute("SELECT id, stock_quantity FROM products WHERE id IN (2, 5)").fetchall())
    with checkout.client() as c:
        r = c.post("/checkout", json=out_of_stock_order)
        unknown = c.post("/checkout", json={"customer_id": "x", "items": [{"product_id": 5, "quantity": 1},
                                                                         {"product_id": 10**12, "quantity": 1}]})
    assert r.status_code == 409 and r.json()["error"] == "out_of_stock"
    assert r.json()["detail"] == "Product 2 has 25 left, fewer than the 26 ordered."
    assert unknown.status_code == 404 and unknown.json()["detail"] == f"Product {10**12} does not exist."
    assert counts(db) == before
    assert dict(db.execute("SELECT id, stock_quantity FROM products WHERE id IN (2, 5)").fetchall()) == stock


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"customer_id": "a"}, "give either cart_id or items"),
        ({"customer_id": "a", "items": [{"product_id": 1, "quantity": -2}]}, "Field 'items.0.quantity' is invalid"),
        ({"customer_id": "a", "items": []}, "Field 'items' is invalid"),
        ({"customer_id": "a", "items": [{"product_id": 1, "quantity": 1}] * 2}, "only once"),
        ({"items": [{"product_id": 1, "quantity": 1}]}, "Field 'customer_id' is required."),
        ({"customer_id": "a", "cart_id": "nope"}, "Field 'cart_id' is invalid"),
    ],
    ids=["no-source", "negative-quantity", "empty-items", "duplicate-product", "no-customer", "bad-cart-id"],
)
def test_bad_checkout_bodies_get_422_and_write_nothing(checkout, db, body, fragment):
    before = counts(db)
    with checkout.client() as c:
        r = c.post("/checkout", json=body)
    assert r.status_code == 422 and fragment in r.json()["detail"], r.text
    assert counts(db) == before


def test_malformed_json_gets_422(checkout):
    with checkout.client() as c:
        r = c.post("/checkout", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == "The request body is not valid JSON."
