"""Cart endpoints, Postgres-backed."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from services.shared.db import QueryRunner, QueryShape
from services.shared.deps import ConnDep, QueriesDep

router = APIRouter(tags=["cart"])

CREATE_CART = QueryShape("cart_create", "INSERT INTO carts DEFAULT VALUES RETURNING id")
CART_EXISTS = QueryShape("cart_exists", "SELECT id FROM carts WHERE id = %(cart_id)s")
ADD_ITEM = QueryShape(
    "cart_add_item",
    "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES (%(cart_id)s, %(product_id)s, %(quantity)s) "
    "ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity "
    "RETURNING quantity",
)
CART_LINES = QueryShape(
    "cart_lines",
    "SELECT ci.product_id, p.name, p.price, ci.quantity FROM cart_items ci "
    "JOIN products p ON p.id = ci.product_id WHERE ci.cart_id = %(cart_id)s ORDER BY ci.product_id",
)

CartId = Annotated[UUID, Path(description="The cart's id, as returned by POST /carts")]


class AddItem(BaseModel):
    product_id: int = Field(ge=1, le=2**63 - 1)
    quantity: int = Field(default=1, ge=1, le=100)


class CartLine(BaseModel):
    product_id: int
    name: str
    price: Decimal
    quantity: int


class Cart(BaseModel):
    cart_id: UUID
    items: list[CartLine]
    total: Decimal


async def _cart(conn: psycopg.AsyncConnection[Any], queries: QueryRunner, cart_id: UUID) -> Cart:
    if not await queries.fetch(conn, CART_EXISTS, {"cart_id": cart_id}):
        raise HTTPException(status_code=404, detail=f"Cart {cart_id} does not exist.")
    lines = [CartLine(**r) for r in await queries.fetch(conn, CART_LINES, {"cart_id": cart_id})]
    return Cart(cart_id=cart_id, items=lines, total=sum((x.price * x.quantity for x in lines), Decimal(0)))


@router.post("/carts", response_model=Cart, status_code=201)
async def create_cart(conn: ConnDep, queries: QueriesDep) -> Cart:
    async with conn.transaction():
        row = (await queries.fetch(conn, CREATE_CART, {}))[0]
    return Cart(cart_id=row["id"], items=[], total=Decimal(0))


@router.post("/carts/{cart_id}/items", response_model=Cart)
async def add_item(cart_id: CartId, item: AddItem, conn: ConnDep, queries: QueriesDep) -> Cart:
    try:
        async with conn.transaction():
            await queries.fetch(conn, ADD_ITEM, {"cart_id": cart_id, **item.model_dump()})
    except psycopg.errors.ForeignKeyViolation as exc:
        missing = (f"Product {item.product_id}" if exc.diag.constraint_name == "cart_items_product_id_fkey"
                   else f"Cart {cart_id}")
        raise HTTPException(status_code=404, detail=f"{missing} does not exist.") from exc
    async with conn.transaction():
        return await _cart(conn, queries, cart_id)


@router.get("/carts/{cart_id}", response_model=Cart)
async def get_cart(cart_id: CartId, conn: ConnDep, queries: QueriesDep) -> Cart:
    async with conn.transaction():
        return await _cart(conn, queries, cart_id)
