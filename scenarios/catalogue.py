"""The scenario catalogue: every scenario by name, each validated here, once, at import, so a
broken definition fails the first thing that loads it (a preview, a service, a test)."""

from __future__ import annotations

from scenarios.blackfriday import BLACKFRIDAY
from scenarios.model import Scenario
from scenarios.validate import validate

SCENARIOS: dict[str, Scenario] = {s.name: validate(s) for s in (BLACKFRIDAY,)}
# What a baseline stack calibrates for: the demo most stacks stage.
DEFAULT_SCENARIO = BLACKFRIDAY.name


def get_scenario(name: str) -> Scenario:
    """Look a scenario up by name; unknown names get an error listing the allowed ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        allowed = ", ".join(sorted(SCENARIOS))
        raise KeyError(f"unknown scenario '{name}'; allowed values: {allowed}") from None
