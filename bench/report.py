"""The benchmark table: printed by `make bench` and kept in docs/performance.md,
between markers, with the machine and the command that produced it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f} %"


def _num(value: Any, unit: str = "", digits: int = 1) -> str:
    return "-" if value is None else f"{float(value):,.{digits}f}{unit}"


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    acc, cost = r.get("loadgen_accuracy", {}), r.get("loadgen_cost", {})
    sf, rs, ph = r.get("storefront", {}), r.get("restore", {}), r.get("physics", {})
    return [
        ("Load generator accuracy: worst per-window error, target answering in 2.5 s, 2 then 10 journeys/s",
         f"ours {_pct(acc.get('ours_worst_error'))}; Locust at its best (pacing above the latency) "
         f"{_pct(acc.get('locust_worst_error'))}; Locust paced for a healthy storefront "
         f"{_pct(acc.get('locust_naive_worst_error'))}"),
        ("Load generator cost: CPU seconds per 1,000 requests (fast loopback target)",
         f"ours {_num(cost.get('ours_cpu_s_per_1k'), ' s', 3)} (with spans exported "
         f"{_num(cost.get('ours_traced_cpu_s_per_1k'), ' s', 3)}); Locust FastHttpUser "
         f"{_num(cost.get('locust_cpu_s_per_1k'), ' s', 3)}"),
        ("Load generator: highest rate one core holds (>= 99 % delivered, launch lag p99 < 50 ms)",
         f"{_num(cost.get('ours_max_rps_one_core'), ' req/s', 0)}"),
        ("Storefront baseline, indexes present: catalog p50 / p99; checkout p50 / p99",
         f"{_num(sf.get('catalog_p50_ms'), ' ms')} / {_num(sf.get('catalog_p99_ms'), ' ms')}; "
         f"{_num(sf.get('checkout_p50_ms'), ' ms')} / {_num(sf.get('checkout_p99_ms'), ' ms')}"),
        ("Tracing overhead: service CPU per request, OTel on / off (alternating windows; per-round spread)",
         f"{_num(sf.get('tracing_cpu_ratio'), 'x', 2)} (spread {_num(sf.get('tracing_cpu_ratio_spread'), '', 2)})"),
        ("Break / restore at the calibrated size; floor: plain CREATE INDEX of the same indexes",
         f"break {_num(rs.get('break_s'), ' s', 2)}; restore {_num(rs.get('restore_s'), ' s', 2)} vs floor "
         f"{_num(rs.get('floor_s'), ' s', 2)}"),
        ("Writes to products during the restore (CONCURRENTLY) vs during the floor's plain build",
         f"{rs.get('writes_during_restore_ok', '-')} ok, {rs.get('writes_during_restore_failed', '-')} failed, "
         f"longest {_num(rs.get('longest_write_during_restore_ms'), ' ms', 0)} vs longest "
         f"{_num(rs.get('longest_write_during_floor_ms'), ' ms', 0)}"),
        ("Physics: slowdown from the missing indexes, single client (catalog; checkout)",
         f"{_num(ph.get('catalog_slowdown'), 'x')}; {_num(ph.get('checkout_slowdown'), 'x')}"),
        ("Physics: slowdown under the scenario's peak load (catalog; checkout)",
         f"{_num(ph.get('catalog_slowdown_peak'), 'x')}; {_num(ph.get('checkout_slowdown_peak'), 'x')}"),
    ]


def table(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    products = machine.get("products")
    lines = [f"`make bench` on {machine.get('description', 'this machine')}, "
             f"{results.get('measured_at', '?')}; catalog {f'{products:,}' if products else '?'} products. "
             "Figures: `bench/results/latest.json`.", "", "| benchmark | measured |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows(results)]
    return "\n".join(lines)


def update_table(document: Path, text: str) -> bool:
    """Replace the block between the markers; False when `document` has no markers."""
    body = document.read_text()
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(body):
        return False
    document.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", body))
    return True
