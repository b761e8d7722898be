"""FastAPI dependencies shared by the storefront services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request

from services.shared.app import ServiceState
from services.shared.db import QueryRunner, acquire


def get_state(request: Request) -> ServiceState:
    return request.app.state.service  # type: ignore[no-any-return]


async def get_conn(request: Request) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with acquire(get_state(request).pool) as conn:
        yield conn


def get_queries(request: Request) -> QueryRunner:
    return get_state(request).queries


StateDep = Annotated[ServiceState, Depends(get_state)]
ConnDep = Annotated[psycopg.AsyncConnection[Any], Depends(get_conn)]
QueriesDep = Annotated[QueryRunner, Depends(get_queries)]
