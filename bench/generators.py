"""The load generators under benchmark, as running processes: ours (bench/drive_ours.py, the
service's scheduler and client) and Locust (bench/locustfile.py, in its own venv)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import LOCUST, process

UNTRACED = {"OTEL_SDK_DISABLED": "true"}
Steps = tuple[tuple[float, float], ...]  # (seconds, journeys per second)


@dataclass
class Generator:
    """A running load generator; `summary()` waits for its plan to end (ours writes one)."""

    proc: subprocess.Popen[bytes]
    out: Path | None
    timeout: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    def summary(self) -> dict[str, Any]:
        self.proc.wait(timeout=self.timeout)
        if self.out is None:
            return {}
        if self.proc.returncode != 0:
            raise RuntimeError(f"bench.drive_ours exited with {self.proc.returncode}")
        summary: dict[str, Any] = json.loads(self.out.read_text())
        if summary["joined_late_s"] > 0:
            raise RuntimeError(f"bench.drive_ours started {summary['joined_late_s']} s after the plan's start and "
                               "skipped the arrivals already due: give it a longer lead (the machine is slow to "
                               "start Python)")
        return summary


@contextmanager
def ours_process(url: str, steps: Steps, start: float, env: dict[str, str] | None = None,
                 core: int | None = None, window: float = 60.0) -> Iterator[Generator]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        argv = [sys.executable, "-m", "bench.drive_ours", "--target", url, "--start", f"{start:.3f}",
                "--plan", json.dumps([list(s) for s in steps]), "--window", str(window), "--out", str(out)]
        with process(argv, env={"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                                "OTEL_METRIC_EXPORT_INTERVAL": "5000", **(env or {})}, core=core) as proc:
            yield Generator(proc, out, start - time.time() + sum(s for s, _ in steps) + 120)


@contextmanager
def locust_process(url: str, steps: Steps, start: float | None = None, core: int | None = None,
                   pacing: float = 0.1, user: str = "fast") -> Iterator[Generator]:
    """Locust headless until its shape ends; its plan starts at `start` (epoch) or at its own start."""
    argv = [str(LOCUST), "-f", "bench/locustfile.py", "--headless", "--host", url, "--only-summary",
            "--loglevel", "ERROR", "--stop-timeout", "0"]
    env = {"BENCH_PLAN": json.dumps([list(s) for s in steps]), "BENCH_PACING": str(pacing), "BENCH_USER": user}
    if start is not None:
        env["BENCH_START"] = f"{start:.3f}"
    lead = 0.0 if start is None else start - time.time()
    with process(argv, env=env, core=core) as proc:
        yield Generator(proc, None, lead + sum(s for s, _ in steps) + 120)


