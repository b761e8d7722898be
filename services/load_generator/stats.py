"""What the generator observed, per demo minute: journeys, requests, errors, latencies.

Errors are 5xx answers and transport failures (timeouts, refused connections); 4xx answers are
the storefront's business answers (409 out_of_stock) and are counted apart. A checkout fails on
any non-2xx answer or transport failure. Percentiles are exact, from the stored latencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from scenarios.alert import AlertResult, MinuteObservation, evaluate_alert, percentile
from scenarios.model import AlertRule


class Outcome(Enum):
    OK = "ok"              # 2xx/3xx
    REJECTED = "rejected"  # 4xx: a business answer, not an error
    ERROR = "error"        # 5xx, timeout, transport failure

    @classmethod
    def of(cls, status: int | None) -> Outcome:
        if status is None or status >= 500:
            return cls.ERROR
        return cls.REJECTED if status >= 400 else cls.OK


class Kind(Enum):
    CATALOG_LISTING = "catalog_listing"
    CHECKOUT = "checkout"
    OTHER = "other"


@dataclass(kw_only=True)
class Counts:
    """Requests and checkouts by outcome: kept per minute and over the whole run alike."""

    requests: int = 0
    errors: int = 0
    rejections: int = 0
    checkout_attempts: int = 0
    checkout_failures: int = 0
    catalog_listings: int = 0
    catalog_failures: int = 0

    def count(self, kind: Kind, status: int | None) -> None:
        outcome = Outcome.of(status)
        self.requests += 1
        self.errors += outcome is Outcome.ERROR
        self.rejections += outcome is Outcome.REJECTED
        if kind is Kind.CHECKOUT:
            self.checkout_attempts += 1
            self.checkout_failures += status is None or not 200 <= status < 300
        if kind is Kind.CATALOG_LISTING:
            self.catalog_listings += 1
            self.catalog_failures += status is None or not 200 <= status < 300


@dataclass
class MinuteStats(Counts):
    minute: int
    journeys: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    catalog_latencies_ms: list[float] = field(default_factory=list)

    def add(self, kind: Kind, latency_ms: float, status: int | None) -> None:
        self.count(kind, status)
        self.latencies_ms.append(latency_ms)
        if kind is Kind.CATALOG_LISTING:
            self.catalog_latencies_ms.append(latency_ms)

    def observation(self) -> MinuteObservation:
        return MinuteObservation(self.minute, self.checkout_attempts, self.checkout_failures,
                                 tuple(self.catalog_latencies_ms))


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class RunStats(Counts):
    """Observations of one program run; `minute=None` (the baseline) counts totals only."""

    minute_seconds: float
    minutes: dict[int, MinuteStats] = field(default_factory=dict)
    journeys: int = 0
    cancelled_journeys: int = 0
    max_schedule_lag_ms: float = 0.0
    counted_in_flight: int = 0  # requests sent that a minute will count, not answered yet

    def _minute(self, minute: int) -> MinuteStats:
        if minute not in self.minutes:
            self.minutes[minute] = MinuteStats(minute)
        return self.minutes[minute]

    def journey_started(self, minute: int | None, lag_ms: float) -> None:
        self.journeys += 1
        self.max_schedule_lag_ms = max(self.max_schedule_lag_ms, lag_ms)
        if minute is not None:
            self._minute(minute).journeys += 1

    def request_done(self, minute: int | None, kind: Kind, status: int | None,
                     latency_ms: float) -> None:
        self.count(kind, status)
        if minute is not None:
            self._minute(minute).add(kind, latency_ms, status)

    def record(self, minute: int, phase: str, target_rpm: float) -> dict[str, Any]:
        m = self.minutes.get(minute) or MinuteStats(minute)
        return {
            "minute": minute,
            "phase": phase,
            "target_rpm": round(target_rpm, 2),
            "achieved_rpm": round(m.journeys * 60 / self.minute_seconds, 2),
            "journeys": m.journeys,
            "requests": m.requests,
            "errors": m.errors,
            "rejections": m.rejections,
            "error_rate": round(m.errors / m.requests, 4) if m.requests else 0.0,
            "p95_ms": _round(percentile(m.latencies_ms, 95)),
            "catalog_p95_ms": _round(percentile(m.catalog_latencies_ms, 95)),
            "checkout_attempts": m.checkout_attempts,
            "checkout_failures": m.checkout_failures,
            "catalog_listings": m.catalog_listings,
            "catalog_failures": m.catalog_failures,
        }

    def alert(self, rule: AlertRule, completed_through: int) -> AlertResult:
        """The rule over completed minutes only (a minute still running is not judged)."""
        return evaluate_alert(rule, [m.observation() for k, m in sorted(self.minutes.items())
                                     if k <= completed_through])
