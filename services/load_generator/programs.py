"""The traffic programs as arrival schedules: when each journey starts, and under which stage.

Open model: arrival k starts when the integral of this replica's target rate reaches
k + phase, whatever the storefront's response times. Spacing is deterministic, so each demo
minute gets its target count (to within one journey). Rates are journeys per REAL minute;
a demo minute lasts `minute_seconds` real seconds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from scenarios.model import Scenario, Stage
from services.shared.attributes import demo_labels


@dataclass(frozen=True)
class Arrival:
    seq: int
    at: float            # intended start, epoch seconds
    minute: int | None   # demo minute, None for the baseline


@dataclass(frozen=True)
class Moment:
    """What the program says about one instant: stage, total RPM over all replicas, span labels."""

    stage: Stage
    total_rpm: float
    labels: dict[str, int | str]
    # The next stage that opens with a go-live burst, and when (epoch seconds).
    go_live: float | None = None
    go_live_stage: Stage | None = None
    # The scenario's checkout pool: max connections and its timeout, in seconds.
    pool: tuple[int, float] = (0, 0.0)
    minute_seconds: float = 60.0
    # When the current stage opened (epoch seconds; 0 for the baseline).
    stage_opened: float = 0.0


class Program(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def scenario(self) -> Scenario: ...

    def arrivals(self, not_before: float) -> Iterator[Arrival]: ...

    def moment(self, at: float) -> Moment: ...

    def minute_of(self, at: float) -> int | None: ...

    def request_minute(self, at: float) -> int | None: ...


def replica_phase(index: int, replicas: int) -> float:
    """Offset of a replica's arrivals, so N replicas interleave into one even stream."""
    return (index % replicas + 0.5) / replicas


@dataclass(frozen=True)
class Segment:
    m0: float
    m1: float
    r0: float            # replica RPM at m0
    r1: float            # replica RPM at m1
    before: float        # journeys before m0

    def journeys(self, seconds_per_minute: float) -> float:
        return (self.r0 + self.r1) / 2 * (self.m1 - self.m0) * seconds_per_minute / 60

    def minute_at(self, journeys: float, seconds_per_minute: float) -> float:
        """The demo minute in this segment where `journeys` (counted from m0) have started."""
        scale = seconds_per_minute / 60
        slope = (self.r1 - self.r0) / (self.m1 - self.m0)
        # Solve r0*x + slope*x^2/2 = journeys/scale, in the form stable for slope -> 0.
        target = journeys / scale
        root = math.sqrt(max(0.0, self.r0 * self.r0 + 2 * slope * target))
        denominator = self.r0 + root
        return self.m0 + (2 * target / denominator if denominator > 0 else 0.0)


@dataclass(frozen=True)
class DemoProgram:
    """A scenario run: the traffic curve scaled to `peak_rpm`, this replica's share of it."""

    scenario: Scenario
    start: float
    minute_seconds: float
    duration_minutes: int
    peak_rpm: float
    replicas: int = 1
    replica_index: int = 0

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def end(self) -> float:
        return self.start + self.duration_minutes * self.minute_seconds

    @property
    def scale(self) -> float:
        plan_peak = max(r for _, r in self.scenario.traffic.rpm_points)
        return self.peak_rpm / plan_peak if plan_peak > 0 else 0.0

    def total_rpm(self, minute: float) -> float:
        return self.scenario.traffic.target_rpm(minute) * self.scale

    def replica_rpm(self, minute: float) -> float:
        return self.total_rpm(minute) / self.replicas

    def target_rpm(self, minute: int) -> float:
        """This replica's average target over demo minute `minute`, in journeys per real minute."""
        return sum(s.journeys(60.0) for s in self._segments(minute, minute + 1))

    def segments(self) -> list[Segment]:
        return self._segments(0, self.duration_minutes)

    def _segments(self, lo: float, hi: float) -> list[Segment]:
        marks = sorted({lo, hi, *(m for m, _ in self.scenario.traffic.rpm_points if lo < m < hi)})
        out: list[Segment] = []
        before = 0.0
        for m0, m1 in zip(marks, marks[1:], strict=False):
            seg = Segment(m0, m1, self.replica_rpm(m0), self.replica_rpm(m1), before)
            before += seg.journeys(self.minute_seconds)
            out.append(seg)
        return out

    def arrivals(self, not_before: float) -> Iterator[Arrival]:
        phase = replica_phase(self.replica_index, self.replicas)
        k = 0
        for seg in self.segments():
            total = seg.before + seg.journeys(self.minute_seconds)
            while k + phase < total:
                minute = seg.minute_at(k + phase - seg.before, self.minute_seconds)
                at = self.start + minute * self.minute_seconds
                if at >= not_before:
                    yield Arrival(k, at, min(math.floor(minute), self.duration_minutes - 1))
                k += 1

    def minute_of(self, at: float) -> int:
        elapsed = max(0.0, at - self.start)
        return min(math.floor(elapsed / self.minute_seconds), self.duration_minutes - 1)

    def request_minute(self, at: float) -> int | None:
        """The minute a request intended at `at` counts in: none once the timeline is over.
        The last journeys' later steps answer after the load has gone, and counting them in
        the last minute diluted its failure rate (twice its usual requests, measured)."""
        return None if at >= self.end else self.minute_of(at)

    def phase_of(self, minute: int) -> str:
        return self.scenario.phase_at(minute).name

    def moment(self, at: float) -> Moment:
        minute = (at - self.start) / self.minute_seconds
        upcoming = next((st for st in self.scenario.traffic.stages
                         if st.go_live_burst and st.from_minute > minute), None)
        stage = self.scenario.traffic.stage_at(minute)
        return Moment(
            stage=stage,
            total_rpm=self.total_rpm(minute),
            labels=demo_labels(self.scenario.name, self.start, self.minute_seconds, now=at),
            go_live=self.start + upcoming.from_minute * self.minute_seconds if upcoming else None,
            go_live_stage=upcoming,
            pool=self.scenario.pool(),
            minute_seconds=self.minute_seconds,
            stage_opened=self.start + stage.from_minute * self.minute_seconds,
        )


@dataclass(frozen=True)
class BaselineProgram:
    """The quiet day: a low steady rate with no end, so dashboards are never empty."""

    scenario: Scenario
    start: float
    replicas: int = 1
    replica_index: int = 0

    @property
    def name(self) -> str:
        return "baseline"

    @property
    def total_rpm(self) -> float:
        return self.scenario.traffic.baseline_rpm

    def arrivals(self, not_before: float) -> Iterator[Arrival]:
        rate = self.total_rpm / self.replicas
        if rate <= 0:
            return
        phase = replica_phase(self.replica_index, self.replicas)
        k = max(0, math.ceil((not_before - self.start) * rate / 60 - phase))
        while True:
            yield Arrival(k, self.start + (k + phase) * 60 / rate, None)
            k += 1

    def minute_of(self, at: float) -> None:
        return None

    def request_minute(self, at: float) -> None:
        return None

    def moment(self, at: float) -> Moment:
        return Moment(self.scenario.traffic.stage_at(0), self.total_rpm, demo_labels("off", None, 60))
