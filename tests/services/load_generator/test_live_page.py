"""The presenter page in a real browser: headless Chromium loads GET /live from the load
generator playing a demo against the fake storefront, runs its script, and the DOM shows what
/admin/demo-status says (minute, phase, target); a screenshot of it is a real PNG."""

from __future__ import annotations

import re
import struct
import time
from pathlib import Path

import pytest

from scenarios.blackfriday import BLACKFRIDAY
from tests.services.load_generator import chromium
from tests.services.load_generator.conftest import LoadGenFactory

pytestmark = pytest.mark.skipif(chromium.chromium() is None,
                                reason="chromium is not installed (`make system` installs Debian's)")
MS = 3.0  # seconds per demo minute: the minute moves while Chromium runs, more so on a busy machine


def value(dom: str, element: str) -> str:
    found = re.search(rf'id="{element}"[^>]*data-value="([^"]*)"', dom)
    assert found, f"#{element} has no data-value in the page"
    return found.group(1)


@pytest.mark.timeout(120)
def test_the_page_shows_the_minute_phase_and_target_the_status_gives(
    start_loadgen: LoadGenFactory,
) -> None:
    gen = start_loadgen(loadgen_think_time_seconds=0.0)
    with gen.client() as c:  # joined at minute 12: the peak, everything answers
        c.post("/admin/start-demo", json={"scenario": "blackfriday", "minute_seconds": MS,
                                          "start_timestamp": time.time() - 12 * MS}).raise_for_status()
    before = gen.status()
    dom = chromium.dump_dom(f"{gen.url}/live")
    after = gen.status()
    minute = int(value(dom, "minute"))
    # The page read the status at some moment between the two reads; what it shows must be that
    # minute's phase and target, however long Chromium took.
    assert before["minute"] <= minute <= after["minute"]
    assert value(dom, "phase") == BLACKFRIDAY.phase_at(minute).name
    program = gen.controller.demo.program  # type: ignore[union-attr]
    assert float(value(dom, "target-rpm")) == pytest.approx(program.target_rpm(minute), abs=0.01)  # type: ignore[attr-defined]
    assert "blackfriday" in dom and "expected minute 22" in dom
    assert "not configured" in dom  # no PROMETHEUS_URL
    assert re.search(r"<td>product-catalog</td><td>\d+ / 20</td>", dom)  # the fake's pool


@pytest.mark.timeout(120)
def test_a_screenshot_of_the_page_is_a_real_png(start_loadgen: LoadGenFactory, tmp_path: Path) -> None:
    gen = start_loadgen()
    shot = chromium.screenshot(f"{gen.url}/live", tmp_path / "page.png")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1600, 900)
    assert len(data) > 20_000  # a drawn page, not a blank one
