"""Convolution arithmetic against the course's example and torch's own Conv2d."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqviz.attention import conv


def test_curriculum_example():
    rows = conv.layer_table(128, conv.EXAMPLE_LAYERS)
    assert [r.output_size for r in rows] == [63, 63, 63, 30]
    assert [r.receptive_field for r in rows] == [3, 11, 15, 23]
    assert conv.receptive_field([(3, 2), (5, 1), (3, 1), (5, 2)]) == [3, 11, 15, 23]
    assert conv.output_size(128, 3, 2) == 63 and conv.output_size(63, 5, 2) == 30


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), st.integers(0, 3))
def test_output_size_matches_torch(n, kernel, stride, padding):
    if n + 2 * padding < kernel:
        with pytest.raises(ValueError, match="shrinks to nothing"):
            conv.output_size(n, kernel, stride, padding)
        return
    layer = torch.nn.Conv2d(1, 1, kernel, stride, padding)
    assert layer(torch.zeros(1, 1, n, n)).shape[-1] == conv.output_size(n, kernel, stride, padding)


def test_receptive_field_centre_lies_on_the_input():
    rows = conv.layer_table(128, conv.EXAMPLE_LAYERS)
    for row in rows:
        assert 0 <= row.centre_start and row.centre_start + row.receptive_field <= 128


def test_layer_list_that_shrinks_to_nothing_names_the_layer():
    with pytest.raises(ValueError, match=r"layer 3 .*shrinks to nothing"):
        conv.layer_table(20, [(5, 2, 0), (3, 2, 0), (5, 1, 0)])
    with pytest.raises(ValueError, match="shrinks to nothing"):
        conv.output_size(2, 3)


@pytest.mark.parametrize("cells,words", [
    ([["3", "x", "0"]], "not a number"), ([["3", "", "0"]], "empty"), ([["0", "1", "0"]], "from 1"),
    ([["3", "1", "-1"]], "from 0"), ([["2.5", "1", "0"]], "whole number"),
    ([["inf", "1", "0"]], "whole number"), ([[None, None, None]], "empty: add"),
    ([["3", "10000", "10000"]], "from 1 to 1,000"), ([["3", "1", "0"]] * 80, "80 rows; at most 16")])
def test_layers_from_cells_rejects_bad_rows(cells, words):
    with pytest.raises(ValueError, match=words):
        conv.layers_from_cells(cells)


def test_layers_from_cells_reads_rows_and_drops_blank_ones():
    layers = conv.layers_from_cells([["3", "2", "0"], [None, "", float("nan")], [5, 1.0, "2"]])
    assert layers == [conv.Layer(3, 2, 0), conv.Layer(5, 1, 2)]


def test_large_strides_stop_with_a_message_before_the_numbers_run_away():
    layers = conv.layers_from_cells([["3", "1000", "1000"]] * 5)
    with pytest.raises(ValueError, match=r"layer 2 .* reaches 1,001,000 pixels .* beyond the 1,000,000"):
        conv.layer_table(128, layers)
    rows = conv.layer_table(4096, [(3, 1, 1000)] * conv.MAX_LAYERS)  # the largest table allowed
    assert rows[-1].output_size == 4096 + 2 * 999 * conv.MAX_LAYERS
    assert len(conv.layers_from_cells([["3", "1", "0"]] * conv.MAX_LAYERS)) == conv.MAX_LAYERS
