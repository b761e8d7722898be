"""Named invalid scenario definitions: each breaks one rule the validator must name."""

from __future__ import annotations

import dataclasses

import pytest

from scenarios.blackfriday import BLACKFRIDAY, QUIET_MIX
from scenarios.model import JourneyMix, Phase, Stage


@pytest.fixture
def gap_between_phases():
    phases = list(BLACKFRIDAY.phases)
    phases[3] = dataclasses.replace(phases[3], start_minute=21)
    return dataclasses.replace(BLACKFRIDAY, phases=tuple(phases))


@pytest.fixture
def overlapping_phases():
    phases = list(BLACKFRIDAY.phases)
    phases[1] = dataclasses.replace(phases[1], end_minute=16)
    return dataclasses.replace(BLACKFRIDAY, phases=tuple(phases))


@pytest.fixture
def mix_not_adding_up():
    bad = Stage(0, "quiet", JourneyMix(0.6, 0.3, 0.3))
    return dataclasses.replace(BLACKFRIDAY, traffic=dataclasses.replace(
        BLACKFRIDAY.traffic, stages=(bad, *BLACKFRIDAY.traffic.stages[1:])))


@pytest.fixture
def absurd_overload():
    stage = Stage(15, "sale", QUIET_MIX, catalog_overload=50)
    return dataclasses.replace(BLACKFRIDAY, traffic=dataclasses.replace(
        BLACKFRIDAY.traffic, stages=(BLACKFRIDAY.traffic.stages[0], stage)))


@pytest.fixture
def phases_short_of_duration():
    return dataclasses.replace(BLACKFRIDAY, phases=BLACKFRIDAY.phases[:-1])


@pytest.fixture
def alert_outside_scenario():
    late = dataclasses.replace(BLACKFRIDAY.timeline[2], minute=40, latest=41)
    return dataclasses.replace(BLACKFRIDAY, timeline=(late,))


@pytest.fixture
def negative_rpm():
    return dataclasses.replace(BLACKFRIDAY, traffic=dataclasses.replace(
        BLACKFRIDAY.traffic, rpm_points=((0, 30.0), (10, -5.0))))


@pytest.fixture
def empty_phase():
    return dataclasses.replace(BLACKFRIDAY, phases=(Phase("all", 0, 0, "nothing"),), duration_minutes=1)


@pytest.fixture
def targets_beyond_duration():
    return dataclasses.replace(BLACKFRIDAY, targets=dataclasses.replace(BLACKFRIDAY.targets, slow_catalog=(16, 31)))


def _minute(m: int) -> dict:
    rush = m >= 20
    return {"minute": m, "phase": BLACKFRIDAY.phase_at(m).name, "target_rpm": BLACKFRIDAY.traffic.target_rpm(m),
            "achieved_rpm": BLACKFRIDAY.traffic.target_rpm(m), "requests": 60,
            "errors": 20 if rush else 4 if m >= 16 else 0,
            "error_rate": 0.0, "p95_ms": 300.0, "catalog_p95_ms": 6000.0 if m >= 15 else 250.0,
            "checkout_attempts": 10 if rush else 3, "checkout_failures": 4 if rush else 0,
            "catalog_listings": 40, "catalog_failures": 12 if m >= 25 else 2 if m >= 16 else 0}


@pytest.fixture
def on_target_report() -> dict:
    """A report shaped the way the scenario promises: every target met."""
    return {"minutes": [_minute(m) for m in range(30)], "alert": {"fired": True, "first_minute": 22},
            "prometheus": {"alert": "black-friday-checkout-meltdown", "first_minute": 23, "targets_up": 3},
            "restore": {"indexes_restored": True, "invalid_indexes": []},
            "stock": {"products_unbalanced": 0, "orders_without_lines": 0, "orders": 90}}


@pytest.fixture
def error_in_the_ramp(on_target_report):
    on_target_report["minutes"][3]["errors"] = 1
    return on_target_report


@pytest.fixture
def catalog_fast_in_minute_17(on_target_report):
    on_target_report["minutes"][17]["catalog_p95_ms"] = 900.0
    return on_target_report


@pytest.fixture
def too_few_checkout_failures(on_target_report):
    for m in on_target_report["minutes"][25:]:
        m["checkout_failures"] = 1
    return on_target_report


@pytest.fixture
def alert_before_the_rush(on_target_report):
    on_target_report["alert"]["first_minute"] = 19
    return on_target_report


@pytest.fixture
def prometheus_fired_late(on_target_report):
    on_target_report["prometheus"]["first_minute"] = 25
    return on_target_report


@pytest.fixture
def prometheus_did_not_answer(on_target_report):
    on_target_report["prometheus"] = {"alert": "x", "error": "querying prometheus failed: refused"}
    return on_target_report


@pytest.fixture
def under_delivered_minute(on_target_report):
    on_target_report["minutes"][12]["achieved_rpm"] = 108.0
    return on_target_report


@pytest.fixture
def lost_minute(on_target_report):
    del on_target_report["minutes"][7]
    return on_target_report


@pytest.fixture
def invalid_index_left(on_target_report):
    on_target_report["restore"] = {"indexes_restored": True, "invalid_indexes": ["idx_products_category_ccnew"]}
    return on_target_report


@pytest.fixture
def catalog_failing_in_the_sale(on_target_report):
    on_target_report["minutes"][17]["errors"] = 12
    return on_target_report


@pytest.fixture
def too_few_requests_failing(on_target_report):
    for m in on_target_report["minutes"][25:]:
        m["errors"] = 5
    return on_target_report


@pytest.fixture
def catalog_failing_with_the_checkouts(on_target_report):
    """The rush breaks both at once: no order can be told at minute resolution."""
    for m in on_target_report["minutes"][20:]:
        m["catalog_failures"] = 12
    return on_target_report


@pytest.fixture
def report_without_catalog_counts(on_target_report):
    for m in on_target_report["minutes"]:
        del m["catalog_listings"], m["catalog_failures"]
    return on_target_report


@pytest.fixture
def break_without_lock_timeout():
    # An existing SQL file with no lock_timeout: the restore, offered as a break.
    return dataclasses.replace(BLACKFRIDAY, break_sql=BLACKFRIDAY.restore_sql)
