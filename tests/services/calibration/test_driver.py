"""The closed-loop driver calibration measures the catalog with, against a real HTTP server
that answers each request after a fixed delay: its sessions are always in flight, never more."""

from __future__ import annotations

from bench.procs import take_arrivals, target_server
from services.calibration.driver import Request, completed_per_s, run_closed_loop

DELAY_S = 0.05


def test_the_closed_loop_keeps_each_session_busy_and_no_more() -> None:
    sent: list[int] = []

    def ping(seq: int, due: float) -> Request:
        sent.append(seq)
        return Request(due, "ping", "GET", f"{url}/ping")

    with target_server(DELAY_S) as url:
        outcomes = run_closed_loop(ping, 4, 1.5, beside=[Request(0.5, "beside", "GET", f"{url}/ping")])
        arrivals = take_arrivals(url)
    pings = [o for o in outcomes if o.kind == "ping"]
    assert all(o.ok for o in outcomes) and [o.kind for o in outcomes].count("beside") == 1
    assert len(arrivals) == len(outcomes)
    assert len(set(sent)) == len(sent) == len(pings) and {s % 4 for s in sent} == {0, 1, 2, 3}

    def in_flight(t: float) -> int:
        return sum(o.due <= t < o.done_at for o in pings)

    assert max(in_flight(k / 200) for k in range(300)) == 4
    # Little's law: four sessions, each busy but for the instants between an answer and its next.
    busy = sum(o.latency_s for o in pings if o.done_at <= 1.5) / 1.5
    assert 3.5 <= busy <= 4.0
    assert completed_per_s(pings, "ping", 0.5, 1.5) <= 4 / DELAY_S
