"""The rehearsal verdict: a report on target passes every check, and each way of missing a
mark is named by the one check it breaks, with what was seen."""

from __future__ import annotations

import dataclasses

import pytest

from scenarios.blackfriday import BLACKFRIDAY
from scenarios.targets import check_targets, summary


def test_a_report_on_target_meets_every_check(on_target_report):
    checks = check_targets(BLACKFRIDAY, on_target_report)
    assert len(checks) == 11 and all(c.met for c in checks), [c for c in checks if not c.met]
    assert summary(checks)["met"] is True


@pytest.mark.parametrize(("fixture", "missed", "seen"), [
    ("error_in_the_ramp", "no failed request", "1 failed"),
    ("catalog_fast_in_minute_17", "catalog p95", "below in minutes [17]"),
    ("too_few_checkout_failures", "checkout failures 25%-45%", "5/50 = 10.0%"),
    ("alert_before_the_rush", "alert first fires", "minute 19"),
    ("prometheus_fired_late", "Prometheus: alert first fires in minutes 21-24", "minute 25"),
    ("prometheus_did_not_answer", "Prometheus: alert", "querying prometheus failed"),
    ("under_delivered_minute", "achieved RPM", "10.0% (minute 12)"),
    ("lost_minute", "no failed request", "over 14 minutes"),
    ("invalid_index_left", "restored", "idx_products_category_ccnew"),
    ("catalog_failing_in_the_sale", "at most 10% of all requests failing", "20.0% (minute 17)"),
    ("too_few_requests_failing", "25%-45% of all requests failing", "25/300 = 8.3%"),
    ("catalog_failing_with_the_checkouts", "checkouts fail", "checkouts from minute 20, listings from minute 20"),
    ("report_without_catalog_counts", "checkouts fail", "counts no catalog listings"),
])
def test_each_missed_mark_is_named_with_what_was_seen(request, fixture, missed, seen):
    checks = check_targets(BLACKFRIDAY, request.getfixturevalue(fixture))
    failed = [c for c in checks if not c.met]
    assert [c.name.startswith(missed) for c in failed] == [True], failed
    assert seen in failed[0].observed, failed[0].observed
    assert summary(checks)["met"] is False


def test_a_scenario_without_targets_has_nothing_to_check(on_target_report):
    assert check_targets(dataclasses.replace(BLACKFRIDAY, targets=None), on_target_report) == []


def test_a_run_without_prometheus_leaves_its_alert_unjudged(on_target_report):
    on_target_report["prometheus"] = {"skipped": "prometheus is not installed (make system installs Debian's package)"}
    [check] = [c for c in check_targets(BLACKFRIDAY, on_target_report) if c.name.startswith("Prometheus")]
    assert not check.judged and "not installed" in check.observed
    assert summary(check_targets(BLACKFRIDAY, on_target_report))["met"] is True


def test_a_stretch_is_judged_on_the_minutes_it_ran(on_target_report):
    """`--from-minute 16`: the ramp's minutes are not in the report, and the partial minute 15
    before the stretch's start is left out even though it failed."""
    on_target_report["from_minute"] = 16
    on_target_report["minutes"] = [m for m in on_target_report["minutes"] if m["minute"] >= 15]
    on_target_report["minutes"][0]["errors"] = 60
    checks = check_targets(BLACKFRIDAY, on_target_report)
    [ramp] = [c for c in checks if c.name.startswith("no failed request")]
    assert not ramp.judged and not ramp.met and ramp.name.endswith("0-14")
    names = [c.name for c in checks if c.judged]
    assert "catalog p95 >= 2000 ms in minutes 16-29" in names
    assert "at most 10% of all requests failing in each of minutes 16-19" in names
    assert summary(checks)["met"] is True


def test_a_stretch_still_misses_a_mark_it_covers(on_target_report):
    on_target_report["from_minute"] = 16
    on_target_report["minutes"][17]["catalog_p95_ms"] = 900.0
    checks = check_targets(BLACKFRIDAY, on_target_report)
    assert [c.name.split(" in")[0] for c in checks if c.judged and not c.met] == ["catalog p95 >= 2000 ms"]
    assert summary(checks)["met"] is False
