"""PyTorch modules and loaders for the public checkpoints people already have.

Needs the ``train`` extra (torch). Only ``training/`` and ``bundling/`` (``pixserve import``,
``pixserve export``) import this package; the serving path never does. One module per
architecture; :data:`FAMILIES` maps ``pixserve import ARCH`` names to loaders.
"""

from pixserve.models.checkpoint import load_strict, read_state_dict, unwrap
from pixserve.models.registry import (
    FAMILIES,
    Family,
    LoadedModel,
    ModelIO,
    guess_family,
    load_family,
)

__all__ = [
    "FAMILIES",
    "Family",
    "LoadedModel",
    "ModelIO",
    "guess_family",
    "load_family",
    "load_strict",
    "read_state_dict",
    "unwrap",
]
