"""Image bytes in and out: sniffing, safe decoding to upright sRGB pixels, clean encoding.

Only this package touches Pillow's file formats; everything else in pixserve sees
``(H, W, 3)`` uint8 RGB numpy arrays.
"""

from pixserve.imaging.decode import (
    CheckedImage,
    DecodedImage,
    check_image,
    decode_image,
    read_size,
)
from pixserve.imaging.encode import encode_image
from pixserve.imaging.formats import ImageFormat, sniff_format
from pixserve.imaging.sample import sample_photo

__all__ = [
    "CheckedImage",
    "DecodedImage",
    "ImageFormat",
    "check_image",
    "decode_image",
    "encode_image",
    "read_size",
    "sample_photo",
    "sniff_format",
]
