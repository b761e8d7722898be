"""The README's screenshot of the presenter page, from a real rehearsal: start `make demo` with
its output in a file, then

    .venv/bin/python tools/screenshot_demo.py demo.log 23 docs/images/presenter-page.png

waits for the `Live page for the room:` line, then for the demo minute given (plus six seconds,
so the minute's first figures are in), and has headless Chromium take the page at 1600x900.
(`python -m tests.services.load_generator.screenshot` takes one against a fake storefront.)"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import httpx

from tests.services.load_generator.chromium import screenshot


def page_url(log: Path) -> str:
    while True:
        found = re.search(r"Live page for the room: (\S+)", log.read_text()) if log.exists() else None
        if found:
            return found.group(1)
        time.sleep(1)


def wait_for_minute(url: str, minute: int) -> None:
    while True:
        try:
            current = httpx.get(f"{url}admin/demo-status", timeout=5).json().get("minute")
            if current is not None and current >= minute:
                return
        except httpx.HTTPError:
            pass  # not answering yet, or between minutes
        time.sleep(1)


def main() -> None:
    log, minute, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    url = page_url(log)
    wait_for_minute(url, minute)
    time.sleep(6)
    print(screenshot(url, out))


if __name__ == "__main__":
    main()
