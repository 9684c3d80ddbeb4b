"""Running a fully convolutional model on a large image in overlapping tiles.

Tiles of ``[model] tile`` pixels overlap by ``tile_overlap``; across each overlap the two
outputs are blended with weights that are zero on the outer quarter of the overlap (where
a tile's border effects live) and then ramp linearly, normalised so the weights of all
tiles sum to one at every output pixel. The weights are separable, so the output is built
one row of tiles ("band") at a time: memory is the uint8 result plus one float band, never
a float copy of the whole output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pixserve.inference import Engine
from pixserve.inference.cache import Decision
from pixserve.inference.spec import default_batch
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.tensor import from_tensor, output_pixels, to_tensor

#: Receives the fraction of the tiles done so far (the ``Progress`` of ``steps.base``).
TileProgress = Callable[[float], None]


def run_model(
    engine: Engine,
    spec: ModelSpec,
    pixels: np.ndarray,
    progress: TileProgress | None = None,
    *,
    tiles_per_run: int = 1,
) -> np.ndarray:
    """The model's image for ``pixels`` (RGB uint8), tiled when the bundle asks for it.

    ``progress`` receives the fraction done after every tile (once, 1.0, when untiled).
    ``tiles_per_run`` tiles go through the model as one batch (see :func:`run_tiled`).
    """
    h, w = pixels.shape[:2]
    if not spec.tile or (h <= spec.tile and w <= spec.tile):
        out = from_tensor(engine.run(to_tensor(pixels, spec)), spec, pixels.shape)
        if progress is not None:
            progress(1.0)
        return out
    return run_tiled(engine, spec, pixels, progress, tiles_per_run=tiles_per_run)


def tiles_per_run(engine: Engine, decision: Decision | None) -> int:
    """How many tiles of a photo go through ``engine`` at once: its device's batch (8 on a
    GPU, 1 on a CPU), and 1 for a model whose batch axis is fixed."""
    if decision is None or not engine.accepts_batches:
        return 1
    return default_batch(decision.spec)


def output_shape(spec: ModelSpec, shape: tuple[int, int]) -> tuple[int, int]:
    """The (height, width) :func:`run_model` returns for an input of ``shape``: × scale,
    tiled or not, whatever ``input_size`` the model runs at (its output is resized back)."""
    return shape[0] * spec.scale, shape[1] * spec.scale


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` px covering ``length`` px, neighbours sharing
    at least ``overlap`` px; the last tile ends exactly at ``length``."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return [*starts, length - tile]


def blend_weights(starts: list[int], size: int, overlap: int, scale: int) -> list[np.ndarray]:
    """Per tile, 1-D weights over its output (``size·scale`` values) summing to 1 across tiles.

    ``size`` is the tile length on this axis (the image length when it fits in one tile).
    """
    n = size * scale
    q = overlap * scale // 4  # ignored border: the tile's own edge effects live here
    ramp = np.arange(1, overlap * scale - 2 * q + 1, dtype=np.float32) / (
        overlap * scale - 2 * q + 1
    )
    raw = []
    last_end = starts[-1] + size
    for start in starts:
        w = np.ones(n, np.float32)
        if start > 0 and overlap:  # a neighbour before: fade in
            w[:q] = 0.0
            w[q : q + ramp.size] = ramp
        if start + size < last_end and overlap:  # a neighbour after: fade out
            w[n - q :] = 0.0
            w[n - q - ramp.size : n - q] = np.minimum(w[n - q - ramp.size : n - q], ramp[::-1])
        raw.append(w)
    total = np.zeros(last_end * scale, np.float32)
    for start, w in zip(starts, raw, strict=True):
        total[start * scale : start * scale + n] += w
    return [w / total[s * scale : s * scale + n] for s, w in zip(starts, raw, strict=True)]


def run_tiled(
    engine: Engine,
    spec: ModelSpec,
    pixels: np.ndarray,
    progress: TileProgress | None = None,
    *,
    tiles_per_run: int = 1,
) -> np.ndarray:
    """Run ``pixels`` through the model tile by tile; returns (H·s, W·s, 3) uint8.

    The tiles of a band have one size, so up to ``tiles_per_run`` of them go through the
    model as one batch: what keeps a GPU busy (on a CPU, one at a time is as fast). The
    output is the same either way. ``progress`` receives the fraction of tiles done after
    each run, ending at 1.0: a large photo through an upscaler is tens of tiles, so a
    watcher sees the job move.
    """
    h, w = pixels.shape[:2]
    s, overlap = spec.scale, spec.tile_overlap
    th, tw = min(spec.tile, h), min(spec.tile, w)
    ys, xs = tile_starts(h, th, overlap), tile_starts(w, tw, overlap)
    wy, wx = blend_weights(ys, th, overlap, s), blend_weights(xs, tw, overlap, s)
    out = np.empty((h * s, w * s, 3), np.uint8)
    carry: np.ndarray | None = None  # the part of the last band the next band shares
    total, done = len(ys) * len(xs), 0
    per_run = max(tiles_per_run, 1)
    for i, y0 in enumerate(ys):
        band = np.zeros((th * s, w * s, 3), np.float32)  # output rows y0·s … (y0+th)·s
        if carry is not None:
            band[: carry.shape[0]] = carry
        for first in range(0, len(xs), per_run):
            columns = list(enumerate(xs))[first : first + per_run]
            tiles = [pixels[y0 : y0 + th, x0 : x0 + tw] for _, x0 in columns]
            outputs = engine.run(np.concatenate([to_tensor(tile, spec) for tile in tiles]))
            for k, (j, x0) in enumerate(columns):
                output = outputs if len(columns) == 1 else outputs[k : k + 1]
                result = output_pixels(output, spec, tiles[k].shape)
                weight = wy[i][:, None, None] * wx[j][None, :, None]  # (th·s, tw·s, 1)
                band[:, x0 * s : (x0 + tw) * s] += result * weight
            done += len(columns)
            if progress is not None:
                progress(done / total)
        top = y0 * s
        bottom = ys[i + 1] * s if i + 1 < len(ys) else h * s
        finished = band[: bottom - top]  # rounded in place: no band-sized temporaries
        np.rint(finished, out=finished)
        np.clip(finished, 0, 255, out=finished)
        out[top:bottom] = finished
        carry = band[bottom - top :].copy()
    return out
