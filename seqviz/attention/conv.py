"""Convolution arithmetic: output sizes and receptive fields of a stack of layers.

Output size per layer floor((n + 2p - k) / s) + 1, and the receptive field recursion
r_l = r_{l-1} + (k_l - 1) j_{l-1}, j_l = j_{l-1} s_l from r_0 = j_0 = 1 (Dumoulin &
Visin 2016, "A guide to convolution arithmetic for deep learning"; Araujo et al.
2019, "Computing receptive fields of convolutional neural networks").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["output_size", "receptive_field", "Layer", "LayerRow", "layer_table",
           "layers_from_cells", "EXAMPLE_LAYERS", "MAX_LAYERS", "MAX_LAYER_VALUE", "MAX_EXTENT"]

# The course's example, (kernel, stride, padding) on a 128 x 128 input: outputs 63, 63,
# 63, 30 and receptive fields 3, 11, 15, 23.
EXAMPLE_LAYERS = ((3, 2, 0), (5, 1, 2), (3, 1, 1), (5, 2, 0))
MAX_LAYERS = 16            # rows of a typed layer table: each is drawn and listed
MAX_LAYER_VALUE = 1_000    # kernel, stride and padding of a typed layer
MAX_EXTENT = 1_000_000     # pixels: the largest image, receptive field or jump a table may reach


def _positive(name: str, value: int, low: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"{name} must be a whole number of at least {low}, got {value!r}")
    return int(value)


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """floor((n + 2 padding - kernel) / stride) + 1; ValueError if nothing is left."""
    n, kernel, stride = _positive("n", n), _positive("kernel", kernel), _positive("stride", stride)
    padding = _positive("padding", padding, 0)
    if n + 2 * padding < kernel:
        raise ValueError(f"a {kernel}-wide kernel does not fit in an input of {n} padded by "
                         f"{padding} on each side ({n + 2 * padding} < {kernel}): "
                         "the image shrinks to nothing")
    return (n + 2 * padding - kernel) // stride + 1


def receptive_field(layers: Sequence[Sequence[int]]) -> list[int]:
    """Receptive field after each layer; layers are (kernel, stride[, padding]) tuples."""
    field, jump, fields = 1, 1, []
    for kernel, stride, *_ in layers:
        field += (_positive("kernel", kernel) - 1) * jump
        jump *= _positive("stride", stride)
        fields.append(field)
    return fields


@dataclass(frozen=True)
class Layer:
    """One convolution layer's geometry."""

    kernel: int
    stride: int = 1
    padding: int = 0


@dataclass(frozen=True)
class LayerRow:
    """What one layer does to the image: its output, receptive field, jump, and where
    the receptive field of its centre output pixel lies on the input (start, inclusive)."""

    layer: Layer
    input_size: int
    output_size: int
    receptive_field: int
    jump: int
    centre_start: int


def layer_table(n: int, layers: Sequence[Layer | Sequence[int]]) -> list[LayerRow]:
    """Walk an n x n input through the layers. ValueError names the layer where the image
    shrinks to nothing, or where its size, receptive field or jump passes MAX_EXTENT
    pixels (strides multiply the jump, so a few large ones leave any image behind)."""
    n = _positive("the input size", n)
    rows: list[LayerRow] = []
    size, field, jump, start = n, 1, 1, 0  # start: input coordinate of output pixel 0's field
    for index, layer in enumerate(layers, start=1):
        layer = layer if isinstance(layer, Layer) else Layer(*layer)
        try:
            out = output_size(size, layer.kernel, layer.stride, layer.padding)
        except ValueError as error:
            raise ValueError(f"layer {index} (kernel {layer.kernel}, stride {layer.stride}, "
                             f"padding {layer.padding}) gets a {size} x {size} input: {error}"
                             ) from None
        start -= layer.padding * jump
        field += (layer.kernel - 1) * jump
        jump *= layer.stride
        largest = max(out, field, jump, abs(start))
        if largest > MAX_EXTENT:
            raise ValueError(f"layer {index} (kernel {layer.kernel}, stride {layer.stride}, "
                             f"padding {layer.padding}) reaches {largest:,} pixels (output size, "
                             f"receptive field or jump), beyond the {MAX_EXTENT:,} this table "
                             "follows: use smaller strides or paddings, or fewer layers")
        rows.append(LayerRow(layer, size, out, field, jump, start + (out // 2) * jump))
        size = out
    return rows


def layers_from_cells(cells: Sequence[Sequence[Any]]) -> list[Layer]:
    """Layers from a table typed by a user: (kernel, stride, padding) per row, whole
    numbers from 1 (kernel, stride) or 0 (padding) to MAX_LAYER_VALUE, at most MAX_LAYERS
    rows. Blank rows are dropped; anything else wrong raises ValueError naming the row."""
    cells = list(cells)
    if len(cells) > MAX_LAYERS:
        raise ValueError(f"the table has {len(cells):,} rows; at most {MAX_LAYERS} layers are "
                         "followed: remove some rows")
    layers = []
    for number, row in enumerate(cells, start=1):
        texts = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
                 for v in row]
        if all(t == "" for t in texts):
            continue
        values = []
        for name, text, low in zip(("kernel", "stride", "padding"), texts, (1, 1, 0)):
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"row {number}: {name} '{text[:20]}' is not a number"
                                 if text else f"row {number}: {name} is empty") from None
            if not math.isfinite(value) or value != int(value) or not low <= value <= MAX_LAYER_VALUE:
                raise ValueError(f"row {number}: {name} must be a whole number from {low} to "
                                 f"{MAX_LAYER_VALUE:,}, got {text[:20]}")
            values.append(int(value))
        layers.append(Layer(*values))
    if not layers:
        raise ValueError("the layer list is empty: add at least one layer")
    return layers
