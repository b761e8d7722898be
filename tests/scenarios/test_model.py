"""The scenario model: the Black Friday definition is valid; broken ones are named."""

from __future__ import annotations

import pytest

from scenarios.blackfriday import BLACKFRIDAY
from scenarios.catalogue import get_scenario
from scenarios.validate import ScenarioError, validate


def test_blackfriday_matches_the_seed_timeline():
    s = validate(BLACKFRIDAY)
    assert [(p.name, p.start_minute, p.end_minute) for p in s.phases] == [
        ("ramp", 0, 10), ("peak", 10, 15), ("degradation", 15, 20),
        ("pool_exhaustion", 20, 25), ("peak_failure", 25, 30)]
    assert [s.traffic.target_rpm(m) for m in (0, 5, 10, 20, 29)] == [30, 75, 120, 120, 120]
    assert s.traffic.stage_at(14).mix.full_checkout == 0.15
    assert s.traffic.stage_at(15).mix.full_checkout == 0.30
    assert s.traffic.stage_at(22).checkout_overload is not None
    assert s.config_values(scenario_active=True) == {
        "DEMO_MODE": "blackfriday", "DB_MAX_CONNECTIONS": "20", "DB_CONNECTION_TIMEOUT": "5"}
    assert s.config_values(scenario_active=False)["DB_MAX_CONNECTIONS"] == "100"
    assert s.dropped_indexes == ("idx_products_category", "idx_products_stock_quantity")
    assert 21 <= s.alert_event().minute <= 24


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("gap_between_phases", "phase 'pool_exhaustion' starts at minute 21 but 'degradation' ends at 20"),
        ("overlapping_phases", "phase 'degradation' starts at minute 15 but 'peak' ends at 16"),
        ("mix_not_adding_up", "the journey mix of stage 'quiet' adds up to 1.200"),
        ("absurd_overload", "stage 'sale' has catalog_overload=50"),
        ("phases_short_of_duration", "the last phase 'pool_exhaustion' ends at minute 25 but the scenario lasts 30"),
        ("alert_outside_scenario", "expected event 'Flow alert fires"),
        ("negative_rpm", "traffic target at minute 10 is -5.0 RPM"),
        ("empty_phase", "phase 'all' ends at minute 0, which is not after its start 0"),
        ("targets_beyond_duration", "target slow_catalog covers minutes 16-31"),
        ("break_without_lock_timeout", "blackfriday/restore.sql sets no lock_timeout"),
    ],
)
def test_invalid_definitions_are_rejected_with_a_sentence(request, fixture, message):
    with pytest.raises(ScenarioError) as err:
        validate(request.getfixturevalue(fixture))
    assert message in str(err.value)
    assert str(err.value).startswith("scenario 'blackfriday': ")


def test_unknown_scenario_names_the_allowed_values():
    with pytest.raises(KeyError, match="unknown scenario 'cybermonday'; allowed values: blackfriday"):
        get_scenario("cybermonday")
