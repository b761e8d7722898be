"""Record, from a rehearsal's Prometheus, the series the scenario's alert rules read, as promtool
`input_series`: the test data of tests/scenarios/test_prometheus_recorded.py.

    python tools/record_series.py --prometheus http://127.0.0.1:9090 --start <minute 0, Unix s> \\
        --minute-seconds 10 --from-minute 12 --to-minute 30 --out tests/scenarios/data/<name>.json

A finished `make demo` leaves its TSDB in .demo/prometheus/data and minute 0 in
.demo/crash-state.json (`start_timestamp`): start a Prometheus on a copy of that folder to read it.
Samples are taken on the rules' evaluation grid from `--from-minute`; a series absent at a step
(a counter not yet incremented) is written as promtool's `_`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx

from scenarios.prometheus import evaluation_interval

SELECTORS = (
    "checkout_attempted_total",
    "checkout_failed_total",
    'storefront_request_duration_milliseconds_bucket{service_name="product-catalog",http_route="/products"}',
)
KEPT_LABELS = ("service_name", "http_route", "http_response_status_code", "le")


def _name(metric: dict[str, str]) -> str:
    labels = ",".join(f'{k}="{metric[k]}"' for k in KEPT_LABELS if k in metric)
    return f"{metric['__name__']}{{{labels}}}"


def record(url: str, start: float, minute_seconds: float, first: int, last: int) -> dict[str, object]:
    step = evaluation_interval(minute_seconds)
    begin, end = start + first * minute_seconds, start + last * minute_seconds
    grid = [begin + i * step for i in range(int(round((end - begin) / step)) + 1)]
    out = []
    for selector in SELECTORS:
        response = httpx.get(f"{url}/api/v1/query_range", timeout=30,
                             params={"query": selector, "start": begin, "end": end, "step": step})
        response.raise_for_status()
        for result in response.json()["data"]["result"]:
            at = {round((float(t) - begin) / step): v for t, v in result["values"]}
            out.append({"series": _name(result["metric"]),
                        "values": " ".join(at.get(i, "_") for i in range(len(grid)))})
    return {"minute_seconds": minute_seconds, "from_minute": first, "step_s": step,
            "input_series": sorted(out, key=lambda s: str(s["series"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start", type=float, required=True, help="minute 0, in Unix seconds")
    parser.add_argument("--minute-seconds", type=float, required=True)
    parser.add_argument("--from-minute", type=int, default=12)
    parser.add_argument("--to-minute", type=int, default=30)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = record(args.prometheus, args.start, args.minute_seconds, args.from_minute, args.to_minute)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
