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


def plain_back(output: np.ndarray, spec: ModelSpec, shape: tuple[int, int]) -> np.ndarray:
    """The float recipe ``from_tensor`` fuses: crop, unscale, round, clip, RGB order."""
    img = output[0].transpose(1, 2, 0) if spec.layout is Layout.NCHW else output[0]
    img = img[: shape[0], : shape[1]]
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    scale, offset = AFFINE[spec.range]
    pixels = np.clip(np.rint((img.astype(np.float64) - offset) / scale), 0, 255)
    return (pixels[..., ::-1] if spec.channels is Channels.BGR else pixels).astype(np.uint8)


@pytest.mark.parametrize(
    ("value_range", "channels", "layout", "planes"),
    list(itertools.product(ValueRange, Channels, Layout, (1, 3))),
)
def test_the_image_is_the_float_recipe(
    value_range: ValueRange, channels: Channels, layout: Layout, planes: int
) -> None:
    """Outputs past the range saturate; values a rounding away from a half may differ by one
    level, no more, and only there."""
    spec = ModelSpec(path=Path("m.onnx"), range=value_range, channels=channels, layout=layout)
    scale, offset = AFFINE[value_range]
    levels = np.random.default_rng(planes).uniform(-20, 275, (1, 41, 58, planes))
    output = (levels * scale + offset).astype(np.float32)  # the model's own units
    if layout is Layout.NCHW:
        output = np.ascontiguousarray(output.transpose(0, 3, 1, 2))
    image = from_tensor(output, spec, (39, 55))
    want = plain_back(output, spec, (39, 55))
    assert image.shape == (39, 55, 3) and image.dtype == np.uint8 and image.flags.c_contiguous
    difference = np.abs(image.astype(int) - want.astype(int))
    assert difference.max() <= 1 and np.count_nonzero(difference) <= 2
    assert (image == 0).any() and (image == 255).any()  # saturated at both ends


@pytest.mark.parametrize("layout", list(Layout))
def test_an_overflowed_output_saturates(layout: Layout) -> None:
    """An fp16 model that overflows hands back infinities: white and black, as clipping."""
    spec = ModelSpec(path=Path("m.onnx"), range=ValueRange.SIGNED, layout=layout)
    output = np.full((1, 2, 2, 3), 0.5, np.float32)
    output[0, 0, 0], output[0, 1, 1] = np.inf, -np.inf
    if layout is Layout.NCHW:
        output = np.ascontiguousarray(output.transpose(0, 3, 1, 2))
    image = from_tensor(output, spec, (2, 2))
    assert (image[0, 0] == 255).all() and (image[1, 1] == 0).all()
    assert (image[0, 1] == 191).all()  # 0.5 in -1..1 is 191.25


def test_a_runaway_output_saturates_too() -> None:
    spec = ModelSpec(path=Path("m.onnx"), range=ValueRange.UNIT)
    output = np.full((1, 3, 1, 2), 0.25, np.float32)
    output[0, :, 0, 0] = 1e9  # far past what OpenCV's 32-bit rounding holds
    assert from_tensor(output, spec, (1, 2)).tolist() == [[[255] * 3, [64] * 3]]
