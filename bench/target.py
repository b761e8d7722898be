"""The benchmarks' target server: answers GET /ping after a fixed delay (the latency under
test; 0 for the cost benchmark) and notes the arrival time of each request, so achieved rates
are counted where they land, at the server. Also swallows OTLP exports (/v1/*), so a traced
load generator pays its real export cost without a collector in the picture.

    python -m bench.target --port 8099 --delay 2.5
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web

ARRIVALS = web.AppKey("arrivals", list[float])
DELAY = web.AppKey("delay", float)


async def ping(request: web.Request) -> web.Response:
    request.app[ARRIVALS].append(time.time())
    delay = request.app[DELAY]
    if delay > 0:
        # The emulated slow storefront: the latency the load generators must not bend to.
        await asyncio.sleep(delay)
    return web.Response(text="pong")


async def arrivals(request: web.Request) -> web.Response:
    """Arrival times since the last read; reading resets them."""
    seen = request.app[ARRIVALS]
    taken, seen[:] = list(seen), []
    return web.json_response(taken)


async def otlp_sink(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=200, content_type="application/x-protobuf")


def make_app(delay: float) -> web.Application:
    app = web.Application()
    app[ARRIVALS] = []
    app[DELAY] = delay
    app.add_routes([web.get("/ping", ping), web.get("/arrivals", arrivals),
                    web.post("/v1/{signal}", otlp_sink)])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(make_app(args.delay), host="127.0.0.1", port=args.port, print=None,
                access_log=None, backlog=4096)


if __name__ == "__main__":
    main()
