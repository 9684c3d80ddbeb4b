"""Reading published checkpoint files as they are, and loading them strictly.

Every family's loader goes through :func:`read_state_dict` (which unwraps the containers
people ship: ``params_ema``/``params`` from BasicSR, ``state_dict``, a DataParallel
``module.`` prefix) and :func:`load_strict` (which names every missing and unexpected key
and every shape that differs, instead of PyTorch's traceback).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

from pixserve.core.errors import CheckpointError, CheckpointMismatch

StateDict = dict[str, torch.Tensor]

#: Containers, in order of preference, that hold the weights inside a checkpoint dict.
#: BasicSR/Real-ESRGAN prefer the EMA weights, as their inference script does.
CONTAINER_KEYS = ("params_ema", "params", "state_dict", "model", "netG", "generator")

#: How many key names an error message lists before it says "… and N more".
SHOWN_KEYS = 8


def read_state_dict(path: Path | str) -> StateDict:
    """The tensors in the PyTorch checkpoint at ``path``, unwrapped to one flat state dict.

    Loading uses ``weights_only=True``: a checkpoint cannot run code on this machine.
    Raises :class:`CheckpointError` for a file that is missing, is not a PyTorch checkpoint,
    or holds no tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: file not found")
    with path.open("rb") as f:
        head = f.read(4)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):  # zip or pickle
        hint = " (an ONNX model? use ARCH onnx)" if path.suffix.lower() == ".onnx" else ""
        raise CheckpointError(f"{path}: not a PyTorch checkpoint{hint}")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" in str(exc):
            raise CheckpointError(
                f"{path}: holds pickled Python objects, not only tensors; pixserve loads "
                "weights only (for safety): save model.state_dict() instead"
            ) from exc
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({_first_line(exc)})") from exc
    except Exception as exc:  # torch raises many types for damaged files
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({_first_line(exc)})") from exc
    return unwrap(raw, source=str(path))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unwrap(raw: object, *, source: str = "checkpoint") -> StateDict:
    """Find the state dict inside ``raw`` (see :data:`CONTAINER_KEYS`), strip ``module.``."""
    found: object = raw
    while isinstance(found, Mapping) and not _is_state_dict(found):
        inner = next((found[k] for k in CONTAINER_KEYS if k in found), None)
        if inner is None:
            keys = ", ".join(map(str, list(found)[:SHOWN_KEYS]))
            raise CheckpointError(f"{source}: no weights found (top-level keys: {keys})")
        found = inner
    if not isinstance(found, Mapping) or not found:
        raise CheckpointError(f"{source}: holds {type(found).__name__}, not a dict of tensors")
    state = {str(k): v for k, v in found.items() if isinstance(v, torch.Tensor)}
    if not state:
        raise CheckpointError(f"{source}: holds no tensors")
    if all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def _is_state_dict(obj: Mapping[object, object]) -> bool:
    return any(isinstance(v, torch.Tensor) for v in obj.values())


def drop_stale_norm_keys(state: StateDict, module: nn.Module) -> StateDict:
    """Without the buffers that old PyTorch saved for norms that keep no statistics.

    Before PyTorch 0.4, ``InstanceNorm2d`` saved ``running_mean``/``running_var`` (and
    later ``num_batches_tracked``) even with ``track_running_stats=False``; files trained
    then, like many ``latest_net_G.pth`` and fast-neural-style ``.pth`` files, still carry
    them. A key is dropped only where ``module`` has an InstanceNorm that keeps no such
    buffer, so a stale key anywhere else is still reported as unexpected.
    """
    stale: set[str] = set()
    for name, sub in module.named_modules():
        if isinstance(sub, nn.InstanceNorm2d) and not sub.track_running_stats:
            prefix = f"{name}." if name else ""
            stale.update(prefix + b for b in ("running_mean", "running_var", "num_batches_tracked"))
    return {k: v for k, v in state.items() if k not in stale}


def load_strict(module: nn.Module, state: StateDict, *, what: str, assign: bool = False) -> None:
    """Copy ``state`` into ``module``; every key must exist on both sides with equal shapes.

    ``assign`` makes the module's parameters *be* the tensors of ``state`` instead of
    copying them (for a module built on the meta device: one copy of a large layer).

    Raises :class:`CheckpointMismatch` whose message lists the missing keys, the unexpected
    keys and the shape differences (``what`` names the architecture in the message).
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k} {tuple(state[k].shape)} (expected {tuple(own[k].shape)})"
        for k in set(own) & set(state)
        if tuple(own[k].shape) != tuple(state[k].shape)
    )
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys: {_listing(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_listing(unexpected)}")
        if shapes:
            parts.append(f"shape mismatches: {_listing(shapes)}")
        raise CheckpointMismatch(f"checkpoint does not fit {what}: " + "; ".join(parts))
    converted = {k: v.to(own[k].dtype) for k, v in state.items()}
    module.load_state_dict(converted, strict=True, assign=assign)


def _listing(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(items[:SHOWN_KEYS])
    more = len(items) - SHOWN_KEYS
    return f"{shown} … and {more} more" if more > 0 else shown


def require(state: StateDict, key: str, *, what: str) -> torch.Tensor:
    """``state[key]``, or a :class:`CheckpointMismatch` saying the file is not a ``what``."""
    try:
        return state[key]
    except KeyError:
        sample = _listing(sorted(state))
        raise CheckpointMismatch(
            f"not a {what} checkpoint: missing key {key!r} (the file has: {sample})"
        ) from None


def count_indexed(state: StateDict, prefix: str) -> int:
    """How many ``prefix<i>.`` groups the keys hold, e.g. ``body.0.``, ``body.1.`` → 2."""
    indices = set()
    for key in state:
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                indices.add(int(head))
    return max(indices) + 1 if indices else 0


def shape_error(what: str, key: str, tensor: torch.Tensor, expected: str) -> CheckpointMismatch:
    """The error for a key whose shape is not what the family ``what`` has there."""
    return CheckpointMismatch(
        f"not a {what} checkpoint: {key} has shape {tuple(tensor.shape)}, expected {expected}"
    )
