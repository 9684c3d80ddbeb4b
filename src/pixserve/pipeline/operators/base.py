"""The :class:`Operator` contract: a classical image filter with typed, validated parameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

P = TypeVar("P")

#: Receives the fraction of an operator's work done so far, rising, as its stages end.
OperatorProgress = Callable[[float], None]


def no_progress(fraction: float) -> None:
    """The progress callback of a caller that does not watch."""


#: Operators see images at least this many pixels on each side; smaller ones are padded
#: (edge-replicated) first and cropped back, so no filter has to care about 1×1 inputs.
MIN_SIDE = 16


@dataclass(frozen=True)
class Operator(Generic[P]):
    """A filter from an RGB uint8 image (H, W, 3) to an RGB uint8 image of the same size.

    ``params_type`` is a frozen dataclass whose fields (with defaults) are the parameters a
    bundle may set in ``[builtin] params``; its ``__post_init__`` may raise ``ValueError``.
    ``fn(rgb, params, progress)`` calls ``progress`` with its rough fraction done as each
    stage ends, so a job's bar moves while the filter runs.
    """

    fn: Callable[[np.ndarray, P, OperatorProgress], np.ndarray]
    params_type: type[P]
    summary: str

    def parse(self, params: Mapping[str, Any]) -> P:
        """Build the parameters from a mapping; raise ``ValueError`` naming a bad key."""
        fields = {f.name: f for f in dataclasses.fields(self.params_type)}  # type: ignore[arg-type]
        for key, value in params.items():
            if key not in fields:
                known = ", ".join(sorted(fields)) or "none"
                raise ValueError(f"unknown parameter {key!r} (known: {known})")
            default = fields[key].default
            if not _same_kind(value, default):
                raise ValueError(
                    f"parameter {key!r} must be {type(default).__name__}, got {value!r}"
                )
        return self.params_type(**params)

    def __call__(
        self,
        pixels: np.ndarray,
        params: P | None = None,
        progress: OperatorProgress | None = None,
    ) -> np.ndarray:
        """Run the filter on ``pixels`` (RGB uint8); the result has the same shape and dtype.

        ``progress`` receives rising fractions of the work done, the last one 1.0.
        """
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise ValueError(
                f"operators take RGB uint8 (H, W, 3), got {pixels.dtype} {pixels.shape}"
            )
        p = params if params is not None else self.params_type()
        h, w = pixels.shape[:2]
        padded = pixels
        if h < MIN_SIDE or w < MIN_SIDE:
            padded = np.pad(
                pixels, ((0, max(0, MIN_SIDE - h)), (0, max(0, MIN_SIDE - w)), (0, 0)), mode="edge"
            )
        report = progress or no_progress
        out = self.fn(np.ascontiguousarray(padded), p, report)[:h, :w]
        if out.shape != pixels.shape or out.dtype != np.uint8:
            raise AssertionError(f"operator returned {out.dtype} {out.shape} for {pixels.shape}")
        report(1.0)
        return np.ascontiguousarray(out)


def _same_kind(value: object, default: object) -> bool:
    # TOML gives int for "8" and float for "8.0"; a float parameter accepts both, bool none.
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))
