"""Liveness (the process answers) and readiness (the database has answered).

Readiness deliberately does not borrow a pooled connection: under pool exhaustion a probe that
needs one would fail, Kubernetes would pull every replica out of the Service, and the demo
would show a cascade of our own making instead of the database's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

health_router = APIRouter(tags=["health"])


@health_router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@health_router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    state = request.app.state.service
    if not state.queries.indexes.known:
        return JSONResponse(status_code=503, content={"status": "not ready",
                                                      "detail": "The database has not answered yet."})
    return JSONResponse(content={"status": "ready", "pool": state.pool.get_stats(),
                                 "valid_indexes": sorted(state.queries.indexes.valid)})
