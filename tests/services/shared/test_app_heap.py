"""The service shell freezes its startup heap, so the collector stops re-traversing it on each
full collection (a fifth of what tracing cost per request, docs/performance.md)."""

from __future__ import annotations

import gc

from services.product_catalog.main import create_app


def test_startup_objects_are_frozen_once_the_service_is_up(run_service) -> None:
    gc.unfreeze()  # an earlier test's service may have frozen this process already
    catalog = run_service(create_app)
    with catalog.client() as c:
        assert c.get("/categories").status_code == 200
        assert gc.get_freeze_count() > 0
