"""The journeys' HTTP transport: libcurl (pycurl's multi interface) driven by the asyncio loop,
the way tornado's curl client and curl's own hiper example drive it: libcurl says which sockets
to watch and when to time out, the loop watches them and hands the events back.

Chosen by measurement over aiohttp, tornado's CurlAsyncHTTPClient and httpx (docs/performance.md):
libcurl parses, pools and times out in C, so a request costs the generator a few Python calls.
Easy handles are reused, and with them libcurl's connection cache (keep-alive)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from io import BytesIO

import pycurl

# error.type for the failures a storefront under load produces; others are named by libcurl's code.
_KINDS = {pycurl.E_OPERATION_TIMEDOUT: "timeout", pycurl.E_COULDNT_CONNECT: "connection_refused",
          pycurl.E_GOT_NOTHING: "empty_reply", pycurl.E_RECV_ERROR: "connection_reset",
          pycurl.E_SEND_ERROR: "connection_reset", pycurl.E_COULDNT_RESOLVE_HOST: "unknown_host"}


class NoAnswer(Exception):
    """No HTTP answer came: refused, reset, timed out (the message is libcurl's)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.kind = _KINDS.get(code, f"curl_error_{code}")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class _Transfer:
    """One request in flight: its easy handle, where the body goes, who waits."""

    __slots__ = ("body", "future", "handle")

    def __init__(self, handle: pycurl.Curl, future: asyncio.Future[Reply]) -> None:
        self.handle, self.future, self.body = handle, future, BytesIO()
        handle.setopt(pycurl.WRITEDATA, self.body)


class CurlTransport:
    def __init__(self, *, timeout_s: float, connect_timeout_s: float = 10.0, max_connections: int = 0) -> None:
        self._timeout_ms = int(timeout_s * 1000)
        self._connect_timeout_ms = int(connect_timeout_s * 1000)
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._watch)
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._schedule)
        if max_connections:
            self._multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, max_connections)
        # Keep-alive connections kept idle: libcurl's default (4x the transfers in flight when one
        # ends) closed and reopened a connection every 40 requests at a steady 300 a second.
        self._multi.setopt(pycurl.M_MAXCONNECTS, max_connections or 1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.Handle | None = None
        self._idle: list[pycurl.Curl] = []
        self._transfers: dict[pycurl.Curl, _Transfer] = {}
        self._watched: dict[int, int] = {}  # fd -> the POLL_* mask the loop watches it for

    async def request(self, method: str, url: str, headers: list[str], body: bytes | None = None) -> Reply:
        """Headers as "Name: value" lines. Raises NoAnswer when no HTTP answer came."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        handle = self._idle.pop() if self._idle else self._new_handle()
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.HTTPHEADER, headers)
        if method == "GET" and body is None:
            handle.setopt(pycurl.HTTPGET, 1)
        else:
            handle.setopt(pycurl.POSTFIELDS, body or b"")  # a POST with no body says Content-Length: 0
            if method != "POST":
                handle.setopt(pycurl.CUSTOMREQUEST, method)
        transfer = _Transfer(handle, self._loop.create_future())
        self._transfers[handle] = transfer
        self._multi.add_handle(handle)
        try:
            return await transfer.future
        finally:
            self._finish(transfer, method)

    def _new_handle(self) -> pycurl.Curl:
        handle = pycurl.Curl()
        handle.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: it would hit the loop
        handle.setopt(pycurl.PROXY, "")    # the storefront directly, whatever *_proxy says
        handle.setopt(pycurl.TIMEOUT_MS, self._timeout_ms)
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, self._connect_timeout_ms)
        return handle

    def _finish(self, transfer: _Transfer, method: str) -> None:
        """Back to the idle handles, as they were made: a cancelled request is aborted here."""
        handle = transfer.handle
        if self._transfers.pop(handle, None) is not None:  # cancelled while in flight
            self._multi.remove_handle(handle)
        if method not in ("GET", "POST"):
            handle.unsetopt(pycurl.CUSTOMREQUEST)
        self._idle.append(handle)

    # libcurl's callbacks: they only tell the loop what to do; socket_action runs from the loop.
    def _watch(self, what: int, fd: int, multi: pycurl.CurlMulti, socketp: object) -> None:
        """Only what changed: each add or remove is a system call or two in the loop."""
        loop = self._loop
        assert loop is not None
        wanted = 0 if what == pycurl.POLL_REMOVE else what
        had = self._watched.pop(fd, 0)
        if wanted:
            self._watched[fd] = wanted
        for flag, add, remove, event in ((pycurl.POLL_IN, loop.add_reader, loop.remove_reader, pycurl.CSELECT_IN),
                                         (pycurl.POLL_OUT, loop.add_writer, loop.remove_writer, pycurl.CSELECT_OUT)):
            if wanted & flag and not had & flag:
                add(fd, self._act, fd, event)
            elif had & flag and not wanted & flag:
                remove(fd)

    def _schedule(self, timeout_ms: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if timeout_ms >= 0 and self._loop is not None:
            self._timer = self._loop.call_later(timeout_ms / 1000, self._act, pycurl.SOCKET_TIMEOUT, 0)

    def _act(self, fd: int, events: int) -> None:
        self._multi.socket_action(fd, events)
        while True:
            queued, done, failed = self._multi.info_read()
            for handle in done:
                self._settle(handle, None)
            for handle, code, message in failed:
                self._settle(handle, NoAnswer(code, message or "transfer failed"))
            if not queued:
                return

    def _settle(self, handle: pycurl.Curl, error: NoAnswer | None) -> None:
        self._multi.remove_handle(handle)
        transfer = self._transfers.pop(handle)
        if transfer.future.done():
            return
        if error is not None:
            transfer.future.set_exception(error)
        else:
            transfer.future.set_result(Reply(handle.getinfo(pycurl.RESPONSE_CODE), transfer.body.getvalue()))

    def close(self) -> None:
        for transfer in list(self._transfers.values()):
            transfer.future.cancel()
            self._multi.remove_handle(transfer.handle)
        self._transfers.clear()
        if self._timer is not None:
            self._timer.cancel()
        for handle in self._idle:
            handle.close()
        self._idle.clear()
        self._multi.close()
