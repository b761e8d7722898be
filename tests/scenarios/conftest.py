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
