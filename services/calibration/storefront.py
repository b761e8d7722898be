"""The catalog and checkout services started from this image's own code, as child processes on
loopback, configured as the scenario configures them: calibration measures the services the
demo runs, with the scenario's pools, against the database it is given.

Their telemetry is off: calibration's deliberate overload must not reach the presenter's
backend (it would fire their alert at install time). In PostgreSQL their sessions are named
`bfdemo-calibration-*` (application_name), so a DBA can tell them from the demo's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from psycopg.conninfo import conninfo_to_dict

SERVICES = ("product-catalog", "checkout")
SESSION_PREFIX = "bfdemo-calibration-"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(conninfo: str, config: Mapping[str, str], name: str) -> dict[str, str]:
    """The environment a service reads (services.shared.config), pointed at `conninfo`."""
    db = conninfo_to_dict(conninfo)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DB_", "DEMO_"))}
    env.update({"DB_HOST": str(db.get("host", "localhost")), "DB_PORT": str(db.get("port", 5432)),
                "DB_NAME": str(db["dbname"]), "DB_USER": str(db.get("user", "")),
                "DB_PASSWORD": str(db.get("password", "")), **config, "DEMO_MODE": "off",
                "OTEL_SDK_DISABLED": "true", "OTEL_SERVICE_NAME": SESSION_PREFIX + name})
    return env


def _ready(url: str, proc: subprocess.Popen[bytes], name: str) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"calibration's {name} exited with {proc.returncode} before answering /ready")
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def storefront(conninfo: str, config: Mapping[str, str], timeout: float = 90.0) -> Iterator[dict[str, str]]:
    """The services' URLs while they run; killed on the way out."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    urls: dict[str, str] = {}
    try:
        for name in SERVICES:
            port = _free_port()
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "services", name, "--host", "127.0.0.1", "--port", str(port)],
                env=service_env(conninfo, config, name), stdout=subprocess.DEVNULL, start_new_session=True)
            urls[name] = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        for name in SERVICES:
            while not _ready(urls[name], procs[name], name):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"calibration's {name} did not answer /ready within {timeout:.0f} s")
                time.sleep(0.2)
        yield urls
    finally:
        # Killed, not stopped: a graceful stop first finishes the requests the measuring rounds
        # left queued, whose answers nothing reads (up to the pool's timeout, 5 s in the
        # scenario; the last phase of a calibration took 6 s). Their database sessions end
        # with calibration's database, dropped WITH (FORCE) next.
        for proc in procs.values():
            proc.kill()
        for proc in procs.values():
            proc.wait()
