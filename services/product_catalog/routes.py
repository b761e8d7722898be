"""Product catalog endpoints."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel

from services.product_catalog import queries as q
from services.shared.db import acquire
from services.shared.deps import ConnDep, QueriesDep, StateDep

router = APIRouter(tags=["catalog"])


class Product(BaseModel):
    id: int
    name: str
    category: str
    price: Decimal
    stock_quantity: int
    is_doorbuster: bool = False


class ProductDetail(Product):
    description: str


class ProductPage(BaseModel):
    category: str
    price_min: Decimal
    price_max: Decimal
    count: int
    products: list[Product]


Price = Annotated[Decimal, Query(ge=0, le=1_000_000, max_digits=12, decimal_places=2)]


@router.get("/products", response_model=ProductPage)
async def list_products(
    conn: ConnDep,
    queries: QueriesDep,
    category: Annotated[str, Query(min_length=1, max_length=100)],
    price_min: Price = Decimal("0"),
    price_max: Price = Decimal("1000000"),
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ProductPage:
    if price_min > price_max:
        raise HTTPException(
            status_code=422,
            detail=f"price_min ({price_min}) must not be greater than price_max ({price_max}).",
        )
    params = {"category": category, "price_min": price_min, "price_max": price_max, "limit": limit}
    rows = await queries.fetch(conn, q.LIST_PRODUCTS, params)
    return ProductPage(category=category, price_min=price_min, price_max=price_max,
                       count=len(rows), products=[Product(**r) for r in rows])


@router.get("/products/doorbusters", response_model=list[Product])
async def doorbusters(conn: ConnDep, queries: QueriesDep) -> list[Product]:
    return [Product(**r) for r in await queries.fetch(conn, q.DOORBUSTERS, {})]


@router.get("/products/{product_id}", response_model=ProductDetail)
async def get_product(
    product_id: Annotated[int, Path(ge=1, le=2**63 - 1)], conn: ConnDep, queries: QueriesDep
) -> ProductDetail:
    rows = await queries.fetch(conn, q.GET_PRODUCT, {"id": product_id})
    if not rows:
        raise HTTPException(status_code=404, detail=f"Product {product_id} does not exist.")
    return ProductDetail(**rows[0])


@router.get("/categories", response_model=list[str])
async def categories(state: StateDep, queries: QueriesDep) -> list[str]:
    # The category list never changes during a demo: read it once per process, and borrow a
    # pooled connection only then (an exhausted pool must not delay a cached answer).
    if "categories" not in state.cache:
        async with acquire(state.pool) as conn:
            state.cache["categories"] = [r["category"] for r in await queries.fetch(conn, q.CATEGORIES, {})]
    return list(state.cache["categories"])
