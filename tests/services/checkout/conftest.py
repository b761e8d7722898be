from __future__ import annotations

import pytest

from services.checkout.main import create_app


@pytest.fixture
def checkout(run_service):
    return run_service(create_app)


