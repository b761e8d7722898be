"""A tiny fake storefront, run as its own process by the tests: `python fake_storefront.py PORT`.

It answers the routes the load generator calls, after a latency the test sets (a real asyncio
wait: this fake is a test target, not the product), and records what it received. Control
routes under /_fake and GET /metrics (a pool of 20 whose connections are the requests in
flight, as the presenter page reads a real service's) are neither delayed nor recorded."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

CATEGORIES = ["electronics/sub00", "toys/sub01", "garden/sub02"]
DOORBUSTERS = [{"id": i, "name": f"Deal {i}", "category": "electronics/sub00", "price": "199.99",
                "stock_quantity": 100000, "is_doorbuster": True} for i in (1, 2, 3)]


def _product(pid: int) -> dict[str, Any]:
    return {"id": pid, "name": f"Item {pid}", "category": "toys/sub01", "price": "10.00",
            "stock_quantity": 50, "is_doorbuster": False}


def fake_app() -> FastAPI:
    app = FastAPI()
    state: dict[str, Any] = {"latency": 0.0, "checkout_status": 201, "seen": [], "inflight": 0}

    @app.middleware("http")
    async def record_and_wait(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/_fake") or request.url.path == "/metrics":
            return await call_next(request)  # type: ignore[no-any-return]
        raw = await request.body()
        state["seen"].append({
            "at": time.time(), "method": request.method, "path": request.url.path,
            "params": dict(request.query_params), "body": json.loads(raw) if raw else None,
            "headers": {k: v for k, v in request.headers.items() if k in ("traceparent", "baggage")},
        })
        state["inflight"] += 1
        try:
            await asyncio.sleep(state["latency"])
            return await call_next(request)  # type: ignore[no-any-return]
        finally:
            state["inflight"] -= 1

    @app.post("/_fake/control")
    async def control(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("reset"):
            state["seen"] = []
        for key in ("latency", "checkout_status"):
            if key in body:
                state[key] = body[key]
        return {"ok": True}

    @app.get("/_fake/seen")
    async def seen() -> list[dict[str, Any]]:
        return list(state["seen"])

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        used = min(20, state["inflight"])
        gauges = {"db_pool_size": 20, "db_pool_available": 20 - used, "db_pool_max": 20,
                  "db_pool_waiting": max(0, state["inflight"] - 20), "db_pool_timeouts_total": 0}
        return PlainTextResponse("".join(f'{k}{{pool_name="fake",service_name="fake"}} {v}\n'
                                         for k, v in gauges.items()))

    @app.get("/categories")
    async def categories() -> list[str]:
        return CATEGORIES

    @app.get("/products")
    async def products(category: str) -> dict[str, Any]:
        return {"category": category, "count": 2, "products": [_product(11), _product(12)]}

    @app.get("/products/doorbusters")
    async def doorbusters() -> list[dict[str, Any]]:
        return DOORBUSTERS

    @app.get("/products/{pid}")
    async def product(pid: int) -> dict[str, Any]:
        return {**_product(pid), "description": "fake"}

    @app.post("/carts", status_code=201)
    async def create_cart() -> dict[str, Any]:
        return {"cart_id": str(uuid.uuid4()), "items": [], "total": "0"}

    @app.post("/carts/{cart_id}/items")
    @app.get("/carts/{cart_id}")
    async def cart(cart_id: str) -> dict[str, Any]:
        return {"cart_id": cart_id, "total": "10.00",
                "items": [{"product_id": 11, "name": "Item 11", "price": "10.00", "quantity": 1}]}

    @app.post("/checkout")
    async def checkout() -> JSONResponse:
        if state["checkout_status"] >= 300:
            return JSONResponse(status_code=state["checkout_status"], content={"error": "fake"})
        return JSONResponse(status_code=201, content={
            "order_id": 1, "customer_id": "x", "total": "10.00", "lines": [], "low_stock_skus": 0})

    return app


if __name__ == "__main__":
    uvicorn.run(fake_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, backlog=4096, timeout_graceful_shutdown=3)
