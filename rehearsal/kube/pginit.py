"""What the PostgreSQL image's entrypoint does on an empty data directory, with this machine's
PostgreSQL binaries: initdb with POSTGRES_USER and POSTGRES_PASSWORD (trust on the socket,
scram-sha-256 for every host, as the image configures), then POSTGRES_DB created. The server
itself is then started as the pod's command, with the pod's args."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rehearsal.localpg import POSTGRES_BIN_PATH, _open_path_for


class InitError(RuntimeError):
    pass


def _run(argv: list[str], entry: Any, stdin: str | None = None) -> None:
    ids = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []} if entry else {}
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False, **ids)
    if result.returncode != 0:
        raise InitError(f"{Path(argv[0]).name} failed: {(result.stderr or result.stdout).strip()[-1500:]}")


def _own(path: Path, entry: Any) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if entry:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def init_cluster(data: Path, sockets: Path, env: Mapping[str, str], entry: Any) -> None:
    _own(sockets, entry)
    if (data / "PG_VERSION").exists():
        return
    _own(data, entry)
    data.chmod(0o700)
    if entry:
        _open_path_for(data)
    user = env.get("POSTGRES_USER", "postgres")
    with tempfile.NamedTemporaryFile("w", dir=data.parent, delete=False) as pwfile:
        pwfile.write(env.get("POSTGRES_PASSWORD", ""))
    try:
        if entry:
            os.chown(pwfile.name, entry.pw_uid, entry.pw_gid)
        _run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(data),
                f"--username={user}",
                f"--pwfile={pwfile.name}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
            ],
            entry,
        )
    finally:
        os.unlink(pwfile.name)
    with open(data / "pg_hba.conf", "a") as hba:
        hba.write("\nhost all all all scram-sha-256\n")
    database = env.get("POSTGRES_DB", user)
    if database != "postgres":
        quoted = database.replace('"', '""')
        _run(
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "--single",
                "-D",
                str(data),
                "-c",
                f"unix_socket_directories={sockets}",
                "-j",
                "postgres",
            ],
            entry,
            stdin=f'CREATE DATABASE "{quoted}";\n',
        )
