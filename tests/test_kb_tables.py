"""One reading of a Markdown table row, shared by ingest and the reply's quotes."""
from agent.kb.tables import cells


def test_cells_are_stripped_and_keep_empty_ones_in_place():
    assert cells("| 周六 | 6:30 集合 |  | 跑者驿站 |") == ("周六", "6:30 集合", "", "跑者驿站")


def test_the_separator_row_has_no_cells_in_any_alignment():
    for rule in ("|---|---|", "| :-- | :--: | --: |", "|-|-|", "---|---"):
        assert cells(rule) == ()


def test_a_dash_beside_words_is_a_cell_not_a_separator():
    assert cells("| 午托 | - |") == ("午托", "-")
