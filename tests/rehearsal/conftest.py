"""The twin's kubectl, pointed at the session's real PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rehearsal.localpg import POSTGRES_BIN_PATH, LocalPostgres
from rehearsal.twin.kubectl import install


@pytest.fixture
def kubectl_env(tmp_path: Path, pg: LocalPostgres) -> dict[str, str]:
    install(tmp_path / "bin")
    return {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
            "BFDEMO_TWIN_PSQL": str(POSTGRES_BIN_PATH / "psql"), "BFDEMO_TWIN_PG_PORT": str(pg.port),
            "BFDEMO_TWIN_PG_DB": pg.dbname, "BFDEMO_TWIN_STATEFULSETS": "postgres"}
