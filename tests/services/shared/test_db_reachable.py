"""Waiting for the database: a server that is not there yet is waited for; a server that
refuses the credentials or the database is reported at once, with PostgreSQL's sentence."""

from __future__ import annotations

import socket
import time

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from rehearsal.localpg import LocalPostgres
from services.shared.db import wait_until_reachable


def test_a_database_the_server_refuses_fails_at_once(pg: LocalPostgres) -> None:
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match='database "no_such_db" does not exist'):
        wait_until_reachable(make_conninfo(pg.conninfo(), dbname="no_such_db"), timeout_s=60)
    assert time.monotonic() - started < 30  # not waited out


def test_a_server_not_listening_yet_is_waited_for() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        wait_until_reachable(f"host=127.0.0.1 port={port} dbname=x connect_timeout=1", timeout_s=2.5)
    assert time.monotonic() - started >= 2.5  # retried until the deadline
