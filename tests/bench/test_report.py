"""The benchmark table: every benchmark gets a row, missing figures show as '-', and the block
between the markers is replaced without touching the rest."""

from __future__ import annotations

from bench.report import END, START, rows, table, update_table


def test_rows_show_figures_and_dashes_for_missing_ones():
    text = dict(rows({"loadgen_accuracy": {"ours_worst_error": 0.004, "locust_worst_error": 0.12}}))
    accuracy = next(v for k, v in text.items() if k.startswith("Load generator accuracy"))
    assert "ours 0.4 %" in accuracy and "12.0 %" in accuracy and "healthy storefront -" in accuracy
    assert len(text) == 9


def test_readme_block_is_replaced_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{START}\nold\n{END}\nafter\n")
    assert update_table(readme, table({"machine": {"products": 1_000_000}}))
    body = readme.read_text()
    assert "\nold\n" not in body and "1,000,000 products" in body
    assert body.startswith("# x\n\nbefore\n") and body.endswith(f"{END}\nafter\n")
    assert not update_table(_without_markers(tmp_path), "x")


def _without_markers(tmp_path):
    path = tmp_path / "plain.md"
    path.write_text("no markers\n")
    return path
