"""Turning whatever Pillow decoded into plain 8-bit sRGB pixels.

Pillow hands back a dozen pixel modes; the rest of pixserve wants one: ``(H, W, 3)`` uint8
RGB in sRGB, with any transparency composited over white (models have no alpha channel, and
white is what a transparent product shot or logo is meant to sit on).
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms

__all__ = ["composite_over_white", "to_srgb"]

# Modes that carry colour the way ImageCms can transform it straight away.
_COLOUR_MODES = frozenset({"L", "RGB", "CMYK"})


def to_srgb(im: Image.Image) -> tuple[np.ndarray, bool]:
    """Convert a loaded image to ``(H, W, 3)`` uint8 sRGB; also say whether it had alpha.

    An embedded ICC profile is converted to sRGB; a profile lcms cannot use is ignored rather
    than failing the image. Alpha (an alpha channel or a transparent palette/colour key) is
    composited over white. High bit depths are scaled, not clipped, to 8 bits.
    """
    icc = im.info.get("icc_profile")
    had_alpha = im.has_transparency_data
    colour, alpha = _split_alpha(im) if had_alpha else (_colour_image(im), None)
    if icc:
        colour = _icc_to_srgb(colour, icc)
    rgb = np.asarray(colour.convert("RGB") if colour.mode != "RGB" else colour, dtype=np.uint8)
    if alpha is not None:
        rgb = composite_over_white(rgb, alpha)
    return rgb, had_alpha


def composite_over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend ``(H, W, 3)`` uint8 colour with ``(H, W)`` uint8 alpha over a white background."""
    a = alpha.astype(np.uint16)[..., None]
    # Integer arithmetic with rounding: exact for a = 0 and a = 255, no float copy of the image.
    blended = (rgb.astype(np.uint16) * a + 255 * (255 - a) + 127) // 255
    return blended.astype(np.uint8)


def _split_alpha(im: Image.Image) -> tuple[Image.Image, np.ndarray]:
    # Converting to LA/RGBA applies palette transparency and colour keys (PNG tRNS) for us.
    grey = im.mode in ("1", "L", "LA", "La", "I;16", "I;16L", "I;16B", "I;16N", "I", "F")
    with_alpha = im if im.mode in ("LA", "RGBA") else im.convert("LA" if grey else "RGBA")
    alpha = np.asarray(with_alpha.getchannel("A"), dtype=np.uint8)
    return with_alpha.convert("L" if grey else "RGB"), alpha


def _colour_image(im: Image.Image) -> Image.Image:
    # Bring any opaque mode to L, RGB or CMYK, the modes an ICC transform accepts.
    if im.mode in _COLOUR_MODES:
        return im
    if im.mode == "1":
        return im.convert("L")
    if im.mode.startswith("I;16"):
        return Image.fromarray(_sixteen_to_eight(np.asarray(im)))
    if im.mode == "I":
        return Image.fromarray(_int32_to_eight(np.asarray(im)))
    if im.mode == "F":
        return Image.fromarray(_float_to_eight(np.asarray(im)))
    return im.convert("RGB")  # P, RGBX, YCbCr, ...


def _sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    # 65535 / 255 = 257 exactly, so this rounds each 16-bit level to the nearest 8-bit one.
    return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _int32_to_eight(values: np.ndarray) -> np.ndarray:
    # Mode I says nothing about the range in use. Pillow opens legacy 16-bit files as I, so
    # 0..255 is taken as 8-bit, 0..65535 as 16-bit, and anything else is stretched to fit.
    low, high = int(values.min()), int(values.max())
    if low >= 0 and high <= 255:
        return values.astype(np.uint8)
    if low >= 0 and high <= 65535:
        return _sixteen_to_eight(values)
    return _stretch(values.astype(np.float64), low, high)


def _float_to_eight(values: np.ndarray) -> np.ndarray:
    # Float images are conventionally 0..1; other ranges are stretched. NaN and inf become 0.
    finite = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(finite.min()), float(finite.max())
    if low >= 0.0 and high <= 1.0:
        return np.rint(finite * 255.0).astype(np.uint8)
    return _stretch(finite, low, high)


def _stretch(values: np.ndarray, low: float, high: float) -> np.ndarray:
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.rint((values - low) * (255.0 / (high - low))).astype(np.uint8)


def _icc_to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(im, source, _srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A broken profile, or one for another colour space than the pixels (a grey profile
        # on RGB data): the pixels are still good, so show them unconverted.
        return im
    return converted if converted is not None else im


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
