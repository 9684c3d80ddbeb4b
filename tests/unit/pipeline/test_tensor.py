"""``to_tensor`` writes the batch in one pass; it must give, bit for bit, what the plain
recipe gives: convert, scale and offset, reflect-pad, reorder the channels, transpose."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from pixserve.core.tensor_io import Channels, Layout, ValueRange
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.tensor import from_tensor, to_tensor

AFFINE = {ValueRange.UNIT: (1 / 255, 0.0), ValueRange.SIGNED: (2 / 255, -1.0),
          ValueRange.BYTE: (1.0, 0.0)}  # fmt: skip


def plain(rgb: np.ndarray, spec: ModelSpec) -> np.ndarray:
    pixels = rgb[..., ::-1] if spec.channels is Channels.BGR else rgb
    scale, offset = AFFINE[spec.range]
    x = pixels.astype(np.float32) * np.float32(scale) + np.float32(offset)
    m = spec.size_multiple
    x = np.pad(x, ((0, -x.shape[0] % m), (0, -x.shape[1] % m), (0, 0)), mode="reflect")
    if spec.layout is Layout.NCHW:
        x = x.transpose(2, 0, 1)
    return np.ascontiguousarray(x[None])


@pytest.mark.parametrize(
    ("value_range", "channels", "layout", "multiple"),
    list(itertools.product(ValueRange, Channels, Layout, (1, 4, 8))),
)
def test_the_batch_is_the_plain_recipe_to_the_bit(
    value_range: ValueRange, channels: Channels, layout: Layout, multiple: int
) -> None:
    spec = ModelSpec(
        path=Path("m.onnx"), range=value_range, channels=channels, layout=layout,
        size_multiple=multiple,
    )  # fmt: skip
    rgb = np.random.default_rng(multiple).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    x = to_tensor(rgb, spec)
    want = plain(rgb, spec)
    assert x.shape == want.shape and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_array_equal(x, want)
    back = from_tensor(x, spec, rgb.shape)  # and the way back gives the photo again
    np.testing.assert_array_equal(back, rgb)
