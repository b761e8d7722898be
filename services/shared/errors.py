"""Error responses: every rejection is a status code plus a sentence, never a stack trace."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.shared.db import PoolExhausted


def describe_validation_error(err: dict[str, Any]) -> str:
    """One sentence for one pydantic error, naming the field."""
    if err.get("type") == "json_invalid":
        return "The request body is not valid JSON."
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
    where = ".".join(loc) if loc else "the request body"
    if err.get("type") == "missing":
        return f"Field '{where}' is required."
    msg = str(err.get("msg", "is invalid")).rstrip(".")
    return f"Field '{where}' is invalid: {msg[0].lower() + msg[1:] if msg else msg}."


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    sentences = [describe_validation_error(e) for e in errors] or ["The request is invalid."]
    return JSONResponse(
        status_code=422,
        content={"detail": " ".join(sentences), "errors": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in errors
        ]},
    )


async def _pool_exhausted(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PoolExhausted)
    return JSONResponse(
        status_code=503,
        headers={"Retry-After": "1"},
        content={"error": "pool_exhausted", "detail": f"The service is overloaded: {exc.detail}."},
    )


async def _db_unavailable(_: Request, exc: Exception) -> JSONResponse:
    span = trace.get_current_span()
    span.set_attribute("db.unavailable", True)
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return JSONResponse(
        status_code=503,
        headers={"Retry-After": "2"},
        content={"error": "database_unavailable", "detail": f"The database is unavailable: {first_line}."},
    )


def _framework_sentence(request: Request, exc: StarletteHTTPException) -> str:
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if exc.status_code == 404 and detail == "Not Found":
        return f"There is no resource at {request.url.path}."
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("allow") or (exc.headers or {}).get("Allow") or ""
        return f"Method {request.method} is not allowed on {request.url.path}; allowed: {allowed or 'none'}."
    if exc.status_code == 400 and "parsing the body" in detail:
        return "The request body could not be parsed: send UTF-8 JSON."
    if detail and detail[-1:] in ".!?":
        return detail
    return f"{detail or 'The request was rejected'}."


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Every HTTP rejection, ours or the framework's, carries a sentence in `detail`."""
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(status_code=exc.status_code, content={"detail": _framework_sentence(request, exc)},
                        headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(PoolExhausted, _pool_exhausted)
    app.add_exception_handler(psycopg.OperationalError, _db_unavailable)
