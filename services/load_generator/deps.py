"""FastAPI dependencies of the load generator: its controller and the admin token check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from services.load_generator.config import Settings
from services.load_generator.controller import DemoController


def get_controller(request: Request) -> DemoController:
    return request.app.state.loadgen  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return get_controller(request).settings


def require_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """With ADMIN_TOKEN set, `Authorization: Bearer <token>` is required (compared in constant
    time). The token is never logged nor echoed."""
    expected = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not expected:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HTTPException(status_code=401, headers={"WWW-Authenticate": "Bearer"},
                            detail="This endpoint needs the header 'Authorization: Bearer <admin "
                                   "token>'; nothing was changed.")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise HTTPException(status_code=403,
                            detail="The admin token is wrong; nothing was changed.")


ControllerDep = Annotated[DemoController, Depends(get_controller)]
AdminDep = Annotated[None, Depends(require_admin)]
