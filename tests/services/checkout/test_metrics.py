"""Checkout's failure counters on /metrics: every reason's series exists at 0 before any
checkout fails, so Prometheus' rate() counts the first failures of each reason (a series that
appears already counting loses that count)."""

from __future__ import annotations

import re
from pathlib import Path

from services.checkout import routes
from services.checkout.metrics import FAILURE_REASONS


def test_every_failure_reason_is_exported_at_zero_from_the_first_checkout(checkout) -> None:
    with checkout.client() as c:
        assert c.post("/checkout", json={"customer_id": "c-m", "items": [
            {"product_id": 20, "quantity": 1}]}).status_code == 201
        text = c.get("/metrics").text
    for reason in FAILURE_REASONS:
        series = rf'^checkout_failed_total\{{[^}}]*checkout_failure_reason="{reason}"[^}}]*\}} 0'
        assert re.search(series, text, re.M), reason


def test_the_reasons_listed_are_those_the_routes_fail_with() -> None:
    source = Path(routes.__file__).read_text()
    raised = set(re.findall(r'CheckoutFailure\(\d+, "([a-z_]+)"', source))
    assert raised == set(FAILURE_REASONS)
