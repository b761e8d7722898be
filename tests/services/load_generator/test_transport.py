"""The journeys' libcurl transport against a real HTTP server on loopback: methods and bodies
as asked (easy handles are reused, so one request's options must not leak into the next),
keep-alive reuse, failures as NoAnswer with a kind, and cancellation."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from services.load_generator.transport import CurlTransport, NoAnswer

Seen = list[dict[str, Any]]


@asynccontextmanager
async def server(delay: float = 0.0) -> AsyncIterator[tuple[str, Seen]]:
    seen: Seen = []

    async def record(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "path": request.path_qs, "body": await request.read(),
                     "peer": request.transport.get_extra_info("peername")[1] if request.transport else None,
                     "type": request.headers.get("Content-Type"), "trace": request.headers.get("traceparent"),
                     "baggage": request.headers.get("baggage")})
        await asyncio.sleep(delay)
        return web.json_response({"ok": True}, status=201 if request.method == "POST" else 200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


def run(test: Callable[[CurlTransport], Awaitable[None]], **kwargs: Any) -> None:
    async def main() -> None:
        transport = CurlTransport(timeout_s=kwargs.get("timeout_s", 5.0))
        try:
            await test(transport)
        finally:
            transport.close()
    asyncio.run(main())


def test_methods_bodies_and_headers_do_not_leak_between_requests() -> None:
    async def test(t: CurlTransport) -> None:
        async with server() as (url, seen):
            assert (await t.request("POST", f"{url}/carts", [])).status == 201
            reply = await t.request("GET", f"{url}/products?category=toys%2Fsub01", ["traceparent: 00-ab-cd-01"])
            assert reply.status == 200 and reply.body.replace(b" ", b"") == b"{\"ok\":true}"
            await t.request("POST", f"{url}/checkout", ["Content-Type: application/json"], b'{"a":1}')
            await t.request("DELETE", f"{url}/carts/1", [])
            await t.request("GET", f"{url}/carts/1", [])
        assert [(s["method"], s["path"]) for s in seen] == [
            ("POST", "/carts"), ("GET", "/products?category=toys%2Fsub01"), ("POST", "/checkout"),
            ("DELETE", "/carts/1"), ("GET", "/carts/1")]
        assert seen[1]["trace"] == "00-ab-cd-01" and seen[4]["trace"] is None
        assert seen[2]["body"] == b'{"a":1}' and seen[2]["type"] == "application/json"
        assert seen[0]["body"] == b"" and seen[4]["body"] == b""
    run(test)


def test_sequential_requests_reuse_one_connection() -> None:
    async def test(t: CurlTransport) -> None:
        async with server() as (url, seen):
            for _ in range(20):
                await t.request("GET", f"{url}/ping", [])
        assert len({s["peer"] for s in seen}) == 1
    run(test)


def test_concurrent_requests_do_not_wait_for_each_other() -> None:
    async def test(t: CurlTransport) -> None:
        async with server(delay=0.5) as (url, seen):
            loop = asyncio.get_running_loop()
            began = loop.time()
            replies = await asyncio.gather(*(t.request("GET", f"{url}/slow", []) for _ in range(100)))
            assert loop.time() - began < 3.0   # 100 at once, not 100 x 0.5 s
        assert {r.status for r in replies} == {200} and len(seen) == 100
    run(test)


def test_refused_and_timed_out_are_no_answer_with_their_kind() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            refused_port = closed.getsockname()[1]

        async def test(t: CurlTransport) -> None:
            with pytest.raises(NoAnswer) as refused:
                await t.request("GET", f"http://127.0.0.1:{refused_port}/", [])
            assert refused.value.kind == "connection_refused"
            with pytest.raises(NoAnswer) as timed_out:
                await t.request("GET", f"http://127.0.0.1:{silent.getsockname()[1]}/", [])
            assert timed_out.value.kind == "timeout"
        run(test, timeout_s=0.5)


def test_a_cancelled_request_leaves_the_transport_usable() -> None:
    async def test(t: CurlTransport) -> None:
        async with server(delay=5.0) as (slow, _):
            pending = asyncio.create_task(t.request("GET", f"{slow}/never", []))
            await asyncio.sleep(0.2)
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
        async with server() as (url, seen):
            assert (await t.request("GET", f"{url}/after", [])).status == 200
        assert [s["path"] for s in seen] == ["/after"]
    run(test)
