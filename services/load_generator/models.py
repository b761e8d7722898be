"""The admin API's request body, and 422 answers that name the field and its allowed values."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from scenarios.catalogue import SCENARIOS

MAX_DURATION_MINUTES = 1440
MAX_PEAK_RPM = 100_000.0
MAX_MINUTE_SECONDS = 3600.0

ALLOWED = {
    "scenario": "one of: " + ", ".join(sorted(SCENARIOS)),
    "duration_minutes": f"a whole number of demo minutes from 1 to {MAX_DURATION_MINUTES}",
    "peak_rpm": f"a number of journeys per minute above 0 and at most {MAX_PEAK_RPM:.0f}",
    "minute_seconds": f"a number of real seconds per demo minute above 0 and at most "
                      f"{MAX_MINUTE_SECONDS:.0f}",
    "start_timestamp": "a Unix time in seconds (0 or more), or null for now",
}
EXAMPLE = '{"scenario": "blackfriday", "duration_minutes": 30, "peak_rpm": 120}'


class StartDemo(BaseModel):
    """POST /admin/start-demo. Omitted fields take the scenario's and the environment's values."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = "blackfriday"
    duration_minutes: int | None = Field(default=None, ge=1, le=MAX_DURATION_MINUTES)
    peak_rpm: float | None = Field(default=None, gt=0, le=MAX_PEAK_RPM, allow_inf_nan=False)
    minute_seconds: float | None = Field(default=None, gt=0, le=MAX_MINUTE_SECONDS,
                                         allow_inf_nan=False)
    start_timestamp: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("scenario")
    @classmethod
    def known_scenario(cls, value: str) -> str:
        if value not in SCENARIOS:
            raise ValueError(f"unknown scenario '{value}'")
        return value


def describe(err: dict[str, Any]) -> str:
    """One sentence for one validation error: the field, what is wrong, what is allowed."""
    kind = err.get("type")
    fields = [str(p) for p in err.get("loc", ()) if p != "body"]
    name = fields[-1] if fields else ""
    if kind == "json_invalid":
        return f"The request body is not valid JSON; send an object such as {EXAMPLE}."
    if not fields:
        return f"The request body must be a JSON object such as {EXAMPLE}."
    if kind == "extra_forbidden":
        return (f"Field '{name}' is not accepted; allowed fields: {', '.join(ALLOWED)}.")
    msg = str(err.get("msg", "is invalid")).removeprefix("Value error, ").rstrip(".")
    msg = msg[:1].lower() + msg[1:]
    allowed = ALLOWED.get(name, "see the API documentation")
    return f"Field '{name}' is invalid ({msg}); allowed values: {allowed}."


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    sentences = [describe(e) for e in errors] or ["The request is invalid."]
    return JSONResponse(status_code=422, content={
        "detail": " ".join(sentences),
        "errors": [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                    "message": describe(e)} for e in errors],
    })
