"""Catalog endpoints against the real database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.product_catalog.main import create_app


@pytest.fixture
def catalog(run_service):
    return run_service(create_app)


def test_listing_filters_by_category_and_price_and_sorts(catalog, db):
    category = db.execute("SELECT category FROM products WHERE id = 100").fetchone()[0]
    with catalog.client() as c:
        r = c.get("/products", params={"category": category, "price_min": 100, "price_max": 300,
                                       "limit": 15})
    assert r.status_code == 200
    body = r.json()
    prices = [Decimal(p["price"]) for p in body["products"]]
    assert 0 < body["count"] == len(prices) <= 15
    assert prices == sorted(prices)
    assert all(p["category"] == category for p in body["products"])
    assert all(Decimal(100) <= x <= Decimal(300) for x in prices)
    expected = db.execute(
        "SELECT id FROM products WHERE category = %s AND price BETWEEN 100 AND 300 ORDER BY price, id LIMIT 15",
        [category]).fetchall()
    assert len(expected) == len(prices)


def test_product_by_id_and_unknown_product(catalog):
    with catalog.client() as c:
        ok = c.get("/products/42")
        missing = c.get("/products/999999999")
    assert ok.status_code == 200 and ok.json()["id"] == 42 and ok.json()["description"]
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Product 999999999 does not exist."


def test_doorbusters_and_categories(catalog):
    with catalog.client() as c:
        doorbusters = c.get("/products/doorbusters").json()
        categories = c.get("/categories").json()
    assert [p["id"] for p in doorbusters] == [1, 2, 3]
    assert all(p["is_doorbuster"] for p in doorbusters)
    assert len(categories) == 200 and categories == sorted(categories)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"category": "toys/sub01", "price_min": 300, "price_max": 100}, "price_min (300) must not be greater"),
        ({"price_min": 1}, "Field 'category' is required."),
        ({"category": "toys/sub01", "limit": 0}, "Field 'limit' is invalid"),
        ({"category": "toys/sub01", "limit": 1000}, "Field 'limit' is invalid"),
        ({"category": "toys/sub01", "price_min": -5}, "Field 'price_min' is invalid"),
        ({"category": "toys/sub01", "price_max": "cheap"}, "Field 'price_max' is invalid"),
    ],
    ids=["min-above-max", "no-category", "zero-limit", "huge-limit", "negative-price", "text-price"],
)
def test_bad_listing_queries_get_422_with_a_sentence(catalog, params, fragment):
    with catalog.client() as c:
        r = c.get("/products", params=params)
    assert r.status_code == 422
    assert fragment in r.json()["detail"]
    assert r.json()["detail"].endswith(".")


@pytest.mark.parametrize("path", ["/products/0", "/products/abc", "/products/-3", "/products/99999999999999999999"])
def test_bad_product_ids_get_422(catalog, path):
    with catalog.client() as c:
        r = c.get(path)
    assert r.status_code == 422
    assert "product_id" in r.json()["detail"]
