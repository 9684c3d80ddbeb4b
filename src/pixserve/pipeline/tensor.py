"""Between pipeline images (RGB uint8, H×W×3) and a model's tensors, as its bundle declares.

Any :class:`~pixserve.core.tensor_io.TensorIO` will do: a bundle's ``ModelSpec``, or a
loaded checkpoint's ``ModelIO`` when an import verifies its export.
"""

from __future__ import annotations

import cv2
import numpy as np

from pixserve.core.errors import ModelError
from pixserve.core.tensor_io import Channels, Layout, TensorIO, ValueRange

# value = pixel * scale + offset, pixel in 0..255
_AFFINE: dict[ValueRange, tuple[float, float]] = {
    ValueRange.UNIT: (1.0 / 255.0, 0.0),
    ValueRange.SIGNED: (2.0 / 255.0, -1.0),
    ValueRange.BYTE: (1.0, 0.0),
}


#: Model outputs below this in magnitude convert to bytes in OpenCV's one pass (see
#: :func:`from_tensor`); 255 in any value range is far below it.
_EXACT_LIMIT = 1e6


def to_tensor(rgb: np.ndarray, spec: TensorIO) -> np.ndarray:
    """A float32 batch of one: fixed size, channel order, value range, reflect padding,
    then layout.

    Written straight into the batch, one channel at a time: converting, scaling, padding
    and transposing as separate steps took four full-size passes (3.8 against 0.7 ms at
    512², the same values to the bit).
    """
    if spec.input_size is not None:
        rgb = _resize(rgb, spec.input_size, spec.input_size)
    h, w = rgb.shape[:2]
    m = spec.size_multiple
    pad_h, pad_w = -h % m, -w % m
    if pad_h or pad_w:
        # Reflection avoids the hard edge that zero padding would feed to the model. It
        # copies pixels, so padding before the value range changes nothing.
        rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
    order = (2, 1, 0) if spec.channels is Channels.BGR else (0, 1, 2)
    scale, offset = (np.float32(v) for v in _AFFINE[spec.range])
    if spec.layout is Layout.NCHW:
        x = np.empty((1, 3, h + pad_h, w + pad_w), np.float32)
        planes = [(x[0, k], rgb[..., c]) for k, c in enumerate(order)]
    else:
        x = np.empty((1, h + pad_h, w + pad_w, 3), np.float32)
        planes = [(x[0], rgb[..., list(order)])]
    for plane, pixels in planes:
        np.multiply(pixels, scale, out=plane, casting="unsafe")
        if offset:
            plane += offset
    return x


def from_tensor(output: np.ndarray, spec: TensorIO, input_shape: tuple[int, ...]) -> np.ndarray:
    """Undo :func:`to_tensor` on the model's output: an RGB uint8 image of input size × scale.

    Scaled, rounded and saturated to bytes in one pass per channel (OpenCV's saturating
    arithmetic), then interleaved: the float steps one after another took five full-size
    passes and three full-size arrays (2.0 against 0.3 ms at 512², 7.1 against 1.5 ms at
    1024²; at most one level apart, where a value lies within rounding of a half).

    Raises :class:`ModelError` when the output does not have the shape the bundle promised.
    """
    # A model of fixed input size is resized back as floats. And OpenCV rounds through a
    # 32-bit int, so an infinity (an fp16 model that overflowed), a NaN or a value past
    # about 10⁷ would come out black: those outputs take the float route too, which clips
    # them as a float does (checking costs two reading passes: 0.1 ms at 512²).
    img = None if spec.input_size is not None else _cropped(output, spec, input_shape)
    if img is None or not max(img.max(), -img.min()) < _EXACT_LIMIT:
        pixels = output_pixels(output, spec, input_shape)  # a fresh array: rounded in place
        np.rint(pixels, out=pixels)
        np.clip(pixels, 0, 255, out=pixels)
        return pixels.astype(np.uint8, order="C")
    scale, offset = _AFFINE[spec.range]
    alpha, beta = 1.0 / scale, -offset / scale

    def to_bytes(values: np.ndarray) -> np.ndarray:
        return cv2.addWeighted(values, alpha, values, 0.0, beta, dtype=cv2.CV_8U)

    if img.shape[2] == 3 and img.strides[2] == img.itemsize:  # NHWC: one call for all three
        rgb = to_bytes(img)
        return np.ascontiguousarray(rgb[..., ::-1]) if spec.channels is Channels.BGR else rgb
    planes = [to_bytes(img[..., c]) for c in range(img.shape[2])]  # NCHW: each contiguous
    if len(planes) == 1:  # grey: the same plane three times
        planes *= 3
    elif spec.channels is Channels.BGR:
        planes.reverse()
    return cv2.merge(planes)


def output_pixels(output: np.ndarray, spec: TensorIO, input_shape: tuple[int, ...]) -> np.ndarray:
    """The model's output as float RGB pixel values (0..255 scale, not clipped), input × scale.

    Tiling blends these before rounding. Raises :class:`ModelError` for a wrong shape.
    """
    if spec.input_size is not None:
        pixels = output_pixels(
            output, spec.model_copy(update={"input_size": None}), (spec.input_size, spec.input_size)
        )
        return _resize(pixels, input_shape[0] * spec.scale, input_shape[1] * spec.scale)
    img = _cropped(output, spec, input_shape)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    scale, offset = _AFFINE[spec.range]
    pixels = img - np.float32(offset)  # one full-size copy, then in place
    pixels /= np.float32(scale)
    if spec.channels is Channels.BGR:
        pixels = pixels[..., ::-1]
    return pixels


def _cropped(output: np.ndarray, spec: TensorIO, input_shape: tuple[int, ...]) -> np.ndarray:
    """The model's output image as an (H, W, C) view, C 1 or 3, cropped to input × scale.

    Raises :class:`ModelError` for a wrong shape.
    """
    want_h, want_w = input_shape[0] * spec.scale, input_shape[1] * spec.scale
    if output.ndim == 3:
        output = output[None]  # a model that drops the batch axis for a batch of one
    if output.ndim != 4 or output.shape[0] < 1:
        raise ModelError(f"model output has shape {output.shape}, expected a 4-D image batch")
    img = output[0]
    if spec.layout is Layout.NCHW:
        img = img.transpose(1, 2, 0)  # (H', W', C)
    channels = img.shape[2]
    if channels not in (1, 3):
        raise ModelError(
            f"model output has {channels} channels ({spec.layout.value} {output.shape}), expected 3"
        )
    if img.shape[0] < want_h or img.shape[1] < want_w:
        raise ModelError(
            f"model output is {img.shape[1]}×{img.shape[0]}, expected at least "
            f"{want_w}×{want_h} (input × scale {spec.scale}); check [model] scale"
        )
    return img[:want_h, :want_w]


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` at ``height`` × ``width``: area averaging to shrink, bicubic to enlarge."""
    if image.shape[:2] == (height, width):
        return image
    shrink = height * width < image.shape[0] * image.shape[1]
    method = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=method)
