"""The benchmark harness itself: window counting, the step plan, and one short real run of our
load generator against the loopback target (arrivals counted at the server)."""

from __future__ import annotations

import time

from bench.drive_ours import StepProgram
from bench.loadgen import LEAD_S, Plan, ours, per_window, worst_error
from bench.loadgen_cost import EDGE_S, GENERATORS, plan_of, rotation
from bench.procs import take_arrivals, target_server


def test_windows_count_arrivals_against_the_plan():
    plan = Plan(10.0, ((20.0, 2.0), (10.0, 10.0)))
    assert plan.targets() == [20.0, 20.0, 100.0]
    arrivals = [100.0 + 0.5 * k for k in range(40)] + [120.0 + 0.1 * k for k in range(90)] + [99.0, 131.0]
    windows = per_window(arrivals, 100.0, plan)
    assert [w["achieved"] for w in windows] == [20, 20, 90]
    assert worst_error(windows) == 0.1


def test_step_program_spaces_arrivals_evenly_within_each_step():
    program = StepProgram(1000.0, ((2.0, 5.0), (1.0, 20.0)), window_seconds=1.0)
    times = [a.at for a in program.arrivals(not_before=0)]
    assert len(times) == 30
    assert times[0] == 1000.1 and abs(times[9] - 1001.9) < 1e-9 and abs(times[10] - 1002.025) < 1e-9
    assert [a.minute for a in program.arrivals(not_before=1002.0)][:2] == [2, 2]


def test_our_generator_delivers_every_planned_request_to_the_target(tmp_path):
    plan = Plan(1.0, ((2.0, 20.0),))
    with target_server(0.05, log=tmp_path / "target.log") as url:
        # The lead covers a loaded machine's interpreter start; a late join raises rather than skews.
        start = time.time() + LEAD_S
        summary = ours(url, plan, start, env={"OTEL_SDK_DISABLED": "true"})
        arrivals = take_arrivals(url)
    assert summary["journeys"] == 40 and summary["errors"] == 0
    assert len(arrivals) == 40 and min(arrivals) >= start
    assert [w["achieved"] for w in per_window(arrivals, start, plan)] == [20, 20]


def test_cost_rotation_gives_each_generator_its_own_phases_on_one_shared_clock():
    phases = rotation(1000.0, steady=10.0, rounds=2)
    assert [p.generator for p in phases] == list(GENERATORS) * 2
    assert phases[0].start == 1000.0 and all(a.end == b.start for a, b in zip(phases, phases[1:], strict=False))
    assert phases[1].window == (phases[1].start + EDGE_S, phases[1].end - EDGE_S)
    for name in GENERATORS:
        steps = plan_of(name, phases)
        # Every generator's plan spans the whole rotation, so all share the same clock ...
        assert sum(s for s, _ in steps) == phases[-1].end - 1000.0
        # ... and offers load only in its own phases.
        assert [rate > 0 for _, rate in steps] == [p.generator == name for p in phases]
