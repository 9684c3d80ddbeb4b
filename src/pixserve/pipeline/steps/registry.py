"""``POST_STEPS``: every step a bundle may name in ``[pipeline] post``.

A value is called with the entry's parameters as keyword arguments and returns a
:class:`~pixserve.pipeline.steps.base.Step`; it raises ``TypeError``/``ValueError`` on bad ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pixserve.pipeline.steps.base import Step
from pixserve.pipeline.steps.post import NormaliseColours, ResizeToInput, Sharpen
from pixserve.pipeline.steps.upscale import Upscale

POST_STEPS: dict[str, Callable[..., Step]] = {
    "sharpen": Sharpen,
    "resize_to_input": ResizeToInput,
    "upscale": Upscale,
    "normalise_colours": NormaliseColours,
}


def make_post_step(name: str, params: dict[str, Any]) -> Step:
    """Build the registered post step ``name``; raise ``KeyError``/``TypeError``/``ValueError``."""
    return POST_STEPS[name](**params)
