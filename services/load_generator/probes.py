"""What the presenter page shows beside our own figures, fetched server-side with a short
timeout: each storefront service's pool (its GET /metrics) and the alerts of a Prometheus
evaluating the scenario's rules (PROMETHEUS_URL). A probe that cannot answer says so in a word
the page prints as it is: "not configured", "unreachable", "not available"."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp

from scenarios.metrics import POOL_TIMEOUTS, POOL_WAITING, prometheus_name

POOL_GAUGES = {"size": "db_pool_size", "available": "db_pool_available",
               "waiting": prometheus_name(POOL_WAITING), "max": "db_pool_max",
               "timeouts": prometheus_name(POOL_TIMEOUTS, counter=True)}
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", re.M)


def pool_figures(text: str) -> dict[str, float] | None:
    """The pool's gauges from a Prometheus text exposition; None if it has none."""
    wanted = {name: key for key, name in POOL_GAUGES.items()}
    found = {wanted[m.group(1)]: float(m.group(3)) for m in SAMPLE.finditer(text) if m.group(1) in wanted}
    return found or None


async def _get(client: aiohttp.ClientSession, url: str, timeout: float) -> tuple[int, str]:
    async with client.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        return response.status, await response.text()


async def pool(client: aiohttp.ClientSession, service: str, base: str, timeout: float) -> dict[str, Any]:
    """One service's pool state, or why it is not available."""
    try:
        status, text = await _get(client, base.rstrip("/") + "/metrics", timeout)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return {"service": service, "state": "unreachable", "detail": type(exc).__name__}
    figures = pool_figures(text) if status == 200 else None
    if figures is None:
        return {"service": service, "state": "not available", "detail": f"HTTP {status}, no pool metrics"}
    return {"service": service, "state": "ok", **figures}


async def pools(client: aiohttp.ClientSession, urls: dict[str, str], timeout: float) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(pool(client, name, url, timeout) for name, url in urls.items())))


def alert_states(body: Any, flow: str) -> dict[str, Any]:
    """The flow alert's state (firing, pending or inactive) and every alert Prometheus lists."""
    listed = body.get("data", {}).get("alerts", []) if isinstance(body, dict) else []
    alerts = [{"name": a.get("labels", {}).get("alertname", "?"), "state": a.get("state", "?"),
               "active_at": a.get("activeAt")} for a in listed if isinstance(a, dict)]
    flows = [a["state"] for a in alerts if a["name"] == flow]
    state = "firing" if "firing" in flows else "pending" if "pending" in flows else "inactive"
    return {"state": state, "alert": flow, "alerts": alerts}


async def prometheus(client: aiohttp.ClientSession, url: str | None, flow: str,
                     timeout: float) -> dict[str, Any]:
    """The flow alert as Prometheus evaluates it, or "not configured" / "unreachable"."""
    if not url:
        return {"state": "not configured", "alert": flow, "alerts": []}
    try:
        async with client.get(url.rstrip("/") + "/api/v1/alerts",
                              timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            body = await response.json(content_type=None) if response.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return {"state": "unreachable", "alert": flow, "alerts": [], "detail": type(exc).__name__}
    if body is None:
        return {"state": "unreachable", "alert": flow, "alerts": [], "detail": "no answer"}
    return alert_states(body, flow)
