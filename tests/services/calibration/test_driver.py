"""The open-loop driver's cut rounds and the hot row's rate estimate."""

from __future__ import annotations

import socket
import time

from services.calibration.driver import TRANSPORT_ERROR, Outcome, Request, run_open_loop, steady_rate


def _done(kind: str, *at: float, status: int = 200) -> list[Outcome]:
    return [Outcome(kind, t, 0.0, status) for t in at]


def test_the_rate_comes_from_the_spacing_of_the_answers_not_their_count() -> None:
    # One every 2 s from 7: 5 answers in [6.5, 15.5) count 0.56/s, their spacing 0.5/s.
    outcomes = _done("order", 7, 9, 11, 13, 15) + _done("order", 8, status=503) + _done("catalog", 10, 12)
    assert steady_rate(outcomes, "order", 6.5, 15.5) == 0.5
    assert steady_rate(outcomes, "order", 8.5, 16) == 0.5
    assert steady_rate(outcomes, "order", 6.5, 10) == 2 / 3.5  # too few to space: counted


def test_a_cut_round_returns_at_its_end_without_the_answers_still_owed() -> None:
    with socket.socket() as silent, socket.socket() as closed:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # accepts, never answers
        closed.bind(("127.0.0.1", 0))  # bound, not listening: refused at once
        slow, refused = (f"http://127.0.0.1:{s.getsockname()[1]}/" for s in (silent, closed))
        requests = [Request(0.0, "slow", "GET", slow), Request(0.1, "refused", "GET", refused)]
        started = time.monotonic()
        outcomes = run_open_loop(requests, timeout_s=60.0, until=0.5)
        took = time.monotonic() - started
    assert 0.5 <= took < 5.0
    assert [(o.kind, o.status) for o in outcomes] == [("refused", TRANSPORT_ERROR)]
