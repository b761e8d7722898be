"""Cart endpoints against the real database."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from services.cart.main import create_app


@pytest.fixture
def cart(run_service):
    return run_service(create_app)


def test_create_add_and_read_a_cart(cart, db):
    with cart.client() as c:
        created = c.post("/carts")
        cart_id = created.json()["cart_id"]
        c.post(f"/carts/{cart_id}/items", json={"product_id": 10, "quantity": 2})
        added = c.post(f"/carts/{cart_id}/items", json={"product_id": 10, "quantity": 1})
        c.post(f"/carts/{cart_id}/items", json={"product_id": 11})
        read = c.get(f"/carts/{cart_id}")
    assert created.status_code == 201 and created.json()["items"] == []
    assert added.status_code == 200
    lines = {line["product_id"]: line["quantity"] for line in read.json()["items"]}
    assert lines == {10: 3, 11: 1}
    prices = dict(db.execute("SELECT id, price FROM products WHERE id IN (10, 11)").fetchall())
    assert Decimal(read.json()["total"]) == prices[10] * 3 + prices[11]


@pytest.fixture
def unknown_cart() -> str:
    return str(uuid.UUID(int=7))


def test_unknown_cart_and_unknown_product_get_404_and_write_nothing(cart, db, unknown_cart):
    with cart.client() as c:
        cart_id = c.post("/carts").json()["cart_id"]
        no_product = c.post(f"/carts/{cart_id}/items", json={"product_id": 999_999_999, "quantity": 1})
        no_cart = c.post(f"/carts/{unknown_cart}/items", json={"product_id": 1, "quantity": 1})
        read_missing = c.get(f"/carts/{unknown_cart}")
    assert no_product.status_code == 404
    assert no_product.json()["detail"] == "Product 999999999 does not exist."
    assert no_cart.status_code == 404 and no_cart.json()["detail"] == f"Cart {unknown_cart} does not exist."
    assert read_missing.status_code == 404
    assert db.execute("SELECT count(*) FROM cart_items WHERE cart_id = %s", [cart_id]).fetchone()[0] == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"product_id": 1, "quantity": -1}, "Field 'quantity' is invalid"),
        ({"product_id": 1, "quantity": 0}, "Field 'quantity' is invalid"),
        ({"product_id": 1, "quantity": 101}, "Field 'quantity' is invalid"),
        ({"quantity": 1}, "Field 'product_id' is required."),
        ({"product_id": "one"}, "Field 'product_id' is invalid"),
    ],
    ids=["negative-quantity", "zero-quantity", "too-many", "no-product", "text-product"],
)
def test_bad_items_get_422_with_a_sentence(cart, body, fragment):
    with cart.client() as c:
        cart_id = c.post("/carts").json()["cart_id"]
        r = c.post(f"/carts/{cart_id}/items", json=body)
    assert r.status_code == 422 and fragment in r.json()["detail"]


def test_malformed_json_and_bad_cart_id(cart):
    with cart.client() as c:
        cart_id = c.post("/carts").json()["cart_id"]
        broken = c.post(f"/carts/{cart_id}/items", content=b'{"product_id": 1,',
                        headers={"content-type": "application/json"})
        bad_id = c.get("/carts/not-a-uuid")
    assert broken.status_code == 422 and broken.json()["detail"] == "The request body is not valid JSON."
    assert bad_id.status_code == 422 and "cart_id" in bad_id.json()["detail"]
