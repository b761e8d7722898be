"""Headless Chromium (Debian's `chromium`, which `make system` installs) for the presenter page's
tests and its screenshot. As root it needs --no-sandbox (it refuses to start otherwise); each
call gets a profile directory of its own, so runs never share state."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BUDGET_MS = 5000  # virtual time for the page's scripts: its first polls of live.json


def chromium() -> str | None:
    return shutil.which("chromium")


def _run(url: str, *flags: str, timeout: float = 90) -> str:
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed; run `make system` (Debian package chromium)")
    with tempfile.TemporaryDirectory(prefix="bfdemo-chromium-") as profile:
        result = subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}", f"--virtual-time-budget={BUDGET_MS}", *flags, url],
            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def dump_dom(url: str) -> str:
    """The page's DOM once its scripts have run for the virtual-time budget."""
    return _run(url, "--dump-dom")


def screenshot(url: str, path: Path, size: tuple[int, int] = (1600, 900)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(url, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}", "--hide-scrollbars")
    if not path.is_file():
        raise RuntimeError(f"chromium wrote no screenshot at {path}")
    return path
