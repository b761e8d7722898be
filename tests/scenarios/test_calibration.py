"""The one calibration parser: what `bfdemo calibrate` writes reads back; anything else is
refused with a sentence naming where it came from and what a calibration holds."""

from __future__ import annotations

import pytest

from scenarios.calibration import Calibration, CalibrationError

GOOD = Calibration(products=1_600_000, catalog_capacity_qps=12.4, lock_throughput_per_s=0.786,
                   measured_at="2026-12-01T08:00:00+00:00", machine="x86_64 laptop cpus=2")


def test_what_is_written_reads_back() -> None:
    assert Calibration.from_json(GOOD.to_json(), "the file") == GOOD
    assert Calibration.from_json('{"products": 10, "catalog_capacity_qps": 1, "lock_throughput_per_s": 0.5}',
                                 "x").catalog_capacity_qps == 1


@pytest.mark.parametrize("text", [
    "not json", "[1, 2]", '{"products": 10}',
    '{"products": 10, "catalog_capacity_qps": 1, "lock_throughput_per_s": 1, "colour": "red"}',
    '{"products": 0, "catalog_capacity_qps": 1, "lock_throughput_per_s": 1}',
    '{"products": 10, "catalog_capacity_qps": -1, "lock_throughput_per_s": 1}',
    '{"products": 10, "catalog_capacity_qps": "fast", "lock_throughput_per_s": 1}',
    '{"products": 10.5, "catalog_capacity_qps": 1, "lock_throughput_per_s": 1}',
])
def test_anything_else_is_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(CalibrationError) as err:
        Calibration.from_json(text, "CALIBRATION_JSON")
    message = str(err.value)
    assert message.startswith("CALIBRATION_JSON is not a calibration: expected a JSON object with products")
    assert message.endswith(".")
