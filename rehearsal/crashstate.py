"""A run's crash state: what it has applied and started, and its steps with their start, end
and status, written to disk as they happen, so a crashed run leaves behind what `restore`
(or the next run) must undo. Not the run's report: that is written once, at the end."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Step:
    name: str
    started: float
    ended: float | None = None
    status: str = "running"  # running | succeeded | failed
    detail: str = ""


@dataclass
class CrashState:
    path: Path
    scenario: str = ""
    steps: list[Step] = field(default_factory=list)
    # What must be undone after a crash: the scenario applied, processes started.
    state: dict[str, Any] = field(default_factory=dict)

    def save(self) -> None:
        body = {"scenario": self.scenario, "state": self.state, "steps": [asdict(s) for s in self.steps]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        os.replace(tmp, self.path)  # atomic: a kill -9 leaves the old or the new state, never half

    @classmethod
    def load(cls, path: Path) -> CrashState:
        if not path.exists():
            return cls(path)
        body = json.loads(path.read_text())
        return cls(path, body.get("scenario", ""), [Step(**s) for s in body.get("steps", [])],
                   body.get("state", {}))

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(name, time.time())
        self.steps.append(step)
        self.save()
        try:
            yield step
        except BaseException as exc:
            step.status, step.detail = "failed", (step.detail or f"{type(exc).__name__}: {exc}")[:500]
            raise
        else:
            step.status = "succeeded"
        finally:
            step.ended = time.time()
            self.save()

    def remember(self, **values: Any) -> None:
        self.state.update(values)
        self.save()
