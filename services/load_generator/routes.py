"""The seed's admin API, plus health and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException

from services.load_generator.controller import DemoConflict, DemoRejected, DemoRequest
from services.load_generator.deps import AdminDep, ControllerDep
from services.load_generator.models import StartDemo

router = APIRouter()


@router.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", tags=["health"])
async def ready(controller: ControllerDep) -> dict[str, Any]:
    # Ready once the lifespan has booted; the storefront's health is not ours to report.
    status = controller.status()
    return {"status": "ready", "phase": status["phase"], "running": status["running"]}


@router.post("/admin/start-demo", tags=["admin"])
async def start_demo(
    _: AdminDep, controller: ControllerDep, body: StartDemo = Body(...),  # noqa: B008
) -> dict[str, Any]:
    request = DemoRequest(body.scenario, body.duration_minutes, body.peak_rpm,
                          body.minute_seconds, body.start_timestamp)
    try:
        return await controller.start_demo(request)
    except DemoConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except DemoRejected as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.get("/admin/demo-status", tags=["admin"])
async def demo_status(controller: ControllerDep) -> dict[str, Any]:
    return controller.status()


@router.post("/admin/stop-demo", tags=["admin"])
async def stop_demo(_: AdminDep, controller: ControllerDep) -> dict[str, Any]:
    try:
        return await controller.stop_demo()
    except DemoConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
