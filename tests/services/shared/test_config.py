"""DEMO_MODE takes "off" or a scenario of the catalogue, in every service: the catalogue is the
one list of names, and a wrong value fails at startup with the allowed ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from scenarios.catalogue import SCENARIOS
from services.load_generator.config import Settings
from services.shared.config import ServiceSettings


@pytest.mark.parametrize("settings", [ServiceSettings, Settings])
def test_every_scenario_of_the_catalogue_is_a_demo_mode(settings: type) -> None:
    for name in ("off", *SCENARIOS):
        assert settings(demo_mode=name).demo_mode == name


@pytest.mark.parametrize("settings", [ServiceSettings, Settings])
def test_an_unknown_demo_mode_names_the_allowed_values(settings: type) -> None:
    with pytest.raises(ValidationError, match="DEMO_MODE is 'cybermonday'; allowed values: off, blackfriday"):
        settings(demo_mode="cybermonday")
