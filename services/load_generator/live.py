"""The presenter's live page: GET / and GET /live serve it (static/live.html, no CDN: it works
offline on a projector), GET /live.json is what it polls every 2 s: /admin/demo-status, the
scenario's timeline (scenarios/timeline.py), the storefront's pools and Prometheus' view of
the alert. The load generator's own metrics are on GET /metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from scenarios.catalogue import SCENARIOS
from scenarios.timeline import timeline
from services.load_generator import probes
from services.load_generator.controller import DemoController
from services.load_generator.deps import ControllerDep
from services.shared.exposition import CONTENT_TYPE, scrape

STATIC = Path(__file__).with_name("static")
router = APIRouter()


@router.get("/", include_in_schema=False)
@router.get("/live", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "live.html", media_type="text/html")


@router.get("/metrics", include_in_schema=False)
async def metrics(controller: ControllerDep) -> Response:
    return Response(scrape(controller.telemetry.scrape_reader), media_type=CONTENT_TYPE)


async def live(controller: DemoController) -> dict[str, Any]:
    status = controller.status()
    scenario = SCENARIOS[status["scenario"] or next(iter(SCENARIOS))]
    s = controller.settings
    urls = {"product-catalog": s.product_catalog_url, "cart": s.cart_url, "checkout": s.checkout_url}
    prometheus, pools = await asyncio.gather(
        probes.prometheus(controller.client, s.prometheus_url, scenario.alert.name,
                          s.live_probe_timeout_seconds),
        probes.pools(controller.client, urls, s.live_probe_timeout_seconds))
    return {
        "scenario": {"name": scenario.name, "description": scenario.description,
                     "duration_minutes": scenario.duration_minutes,
                     "alert": {"window_minutes": scenario.alert.window_minutes,
                               "checkout_error_rate_gt": scenario.alert.checkout_error_rate_gt,
                               "catalog_p95_ms_gt": scenario.alert.catalog_p95_ms_gt}},
        "timeline": timeline(scenario, status.get("start_timestamp"), status["minute_seconds"] or 60.0),
        "status": status,
        "prometheus": prometheus,
        "pools": pools,
        "server_time": controller.clock.now(),
    }


@router.get("/live.json", include_in_schema=False)
async def live_json(controller: ControllerDep) -> dict[str, Any]:
    return await live(controller)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)
