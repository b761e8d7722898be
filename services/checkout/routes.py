"""POST /checkout: one transaction that locks, checks, decrements and records, or leaves no trace."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from opentelemetry import trace
from psycopg import sql

from services.checkout import queries as q
from services.checkout.metrics import checkout_metrics
from services.checkout.models import CheckoutRequest, Order, OrderLine
from services.shared import attributes as attrs
from services.shared.app import ServiceState
from services.shared.db import PoolExhausted, QueryRunner, acquire
from services.shared.deps import QueriesDep, StateDep
from services.shared.logging import get_logger

router = APIRouter(tags=["checkout"])
log = get_logger("checkout")

LOW_STOCK_THRESHOLD = 5


class CheckoutFailure(Exception):
    def __init__(self, status: int, reason: str, detail: str, revenue: Decimal | None = None) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail, self.revenue = status, reason, detail, revenue


async def _lines(conn: psycopg.AsyncConnection[Any], queries: QueryRunner,
                 body: CheckoutRequest) -> dict[int, int]:
    if body.items is not None:
        return {line.product_id: line.quantity for line in body.items}
    rows = await queries.fetch(conn, q.CART_ITEMS, {"cart_id": body.cart_id})
    if not rows:
        raise CheckoutFailure(409, "empty_cart", f"Cart {body.cart_id} is empty or does not exist.")
    return {r["product_id"]: r["quantity"] for r in rows}


async def _place_order(state: ServiceState, queries: QueryRunner, body: CheckoutRequest) -> Order:
    async with acquire(state.pool) as conn, conn.transaction():
        timeout = f"{state.settings.checkout_lock_timeout_ms}ms"
        await conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(timeout)))
        wanted = await _lines(conn, queries, body)
        ids = sorted(wanted)
        rows = {r["id"]: r for r in await queries.fetch(conn, q.LOCK_PRODUCTS, {"ids": ids})}
        if missing := [i for i in ids if i not in rows]:
            raise CheckoutFailure(404, "unknown_product", f"Product {missing[0]} does not exist.")
        total = sum((rows[i]["price"] * wanted[i] for i in ids), Decimal(0))
        short = [i for i in ids if rows[i]["stock_quantity"] < wanted[i]]
        if short:
            i = short[0]
            raise CheckoutFailure(409, "out_of_stock", f"Product {i} has {rows[i]['stock_quantity']} "
                                  f"left, fewer than the {wanted[i]} ordered.", total)
        qty = [wanted[i] for i in ids]
        await queries.fetch(conn, q.DECREMENT, {"ids": ids, "qty": qty})
        low = (await queries.fetch(conn, q.LOW_STOCK, {"threshold": LOW_STOCK_THRESHOLD}))[0]
        order_id = (await queries.fetch(conn, q.INSERT_ORDER, {
            "cart_id": body.cart_id, "customer_id": body.customer_id, "total": total}))[0]["id"]
        prices = [rows[i]["price"] for i in ids]
        await queries.fetch(conn, q.INSERT_LINES, {"order_id": order_id, "ids": ids, "qty": qty,
                                                   "prices": prices})
        if body.cart_id is not None:
            await queries.fetch(conn, q.DELETE_CART, {"cart_id": body.cart_id})
    return Order(order_id=order_id, customer_id=body.customer_id, total=total,
                 low_stock_skus=low["low_stock_skus"],
                 lines=[OrderLine(product_id=i, name=rows[i]["name"], quantity=wanted[i],
                                  unit_price=rows[i]["price"]) for i in ids])


def _classify(exc: Exception, body: CheckoutRequest) -> CheckoutFailure:
    if isinstance(exc, CheckoutFailure):
        return exc
    if isinstance(exc, PoolExhausted):
        return CheckoutFailure(503, "pool_exhausted", f"Checkout is overloaded: {exc.detail}.",
                               body.expected_total)
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return CheckoutFailure(503, "lock_timeout", "Checkout gave up waiting for a product that "
                               "other checkouts hold locked.", body.expected_total)
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return CheckoutFailure(503, "statement_timeout", "Checkout took too long and was cancelled.",
                               body.expected_total)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return CheckoutFailure(503, "database_unavailable", f"The database is unavailable: {first}.",
                           body.expected_total)


@router.post("/checkout", status_code=201, response_model=Order)
@router.post("/checkout/create", status_code=201, response_model=Order, include_in_schema=False)
async def checkout(body: CheckoutRequest, state: StateDep, queries: QueriesDep) -> Any:
    span = trace.get_current_span()
    metrics = checkout_metrics(state)
    try:
        order = await _place_order(state, queries, body)
    except (CheckoutFailure, PoolExhausted, psycopg.OperationalError) as exc:
        failure = _classify(exc, body)
        metrics.attempted.add(1)
        attrs.mark_checkout(span, failed=True, reason=failure.reason)
        revenue = float(failure.revenue or 0)
        metrics.failed.add(1, {attrs.CHECKOUT_FAILURE_REASON: failure.reason})
        metrics.lost_revenue.add(revenue, {attrs.CHECKOUT_FAILURE_REASON: failure.reason})
        log.warning("demo_checkout_failed", reason=failure.reason, status=failure.status,
                    customer_id=body.customer_id, lost_revenue=revenue, detail=failure.detail)
        return JSONResponse(status_code=failure.status,
                            headers={"Retry-After": "1"} if failure.status == 503 else None,
                            content={"error": failure.reason, "detail": failure.detail})
    attrs.mark_checkout(span, failed=False)
    metrics.attempted.add(1)
    metrics.revenue.add(float(order.total))
    span.set_attribute("checkout.order_id", order.order_id)
    return order
