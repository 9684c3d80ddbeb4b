"""Which number format training runs in: bf16 where the hardware does it natively, else fp32.

bf16 autocast is a large win on CUDA GPUs and on CPUs with AMX or AVX512-BF16 instructions,
and a large loss elsewhere: on an AVX2-only AMD EPYC, one CycleGAN generator pass at 512²
took 38 s under bf16 autocast against 3 s in fp32 (PyTorch emulates bf16 matmuls there).
So ``auto`` decides from what the machine reports at run time, never from a guess.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from pixserve.core.errors import InvalidRequest
from pixserve.core.hardware import BF16_FLAGS, cpu_flags

PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Precision:
    """The chosen format and why (printed at the start of a run, saved in its config)."""

    name: str  # "fp32" | "bf16"
    reason: str

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, or None for plain fp32."""
        return torch.bfloat16 if self.name == "bf16" else None


def native_bf16(device: torch.device, flags: set[str] | None = None) -> tuple[bool, str]:
    """Whether ``device`` does bf16 arithmetic in hardware, and the evidence."""
    if device.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        name = torch.cuda.get_device_name(device)
        return ok, f"{name} {'supports' if ok else 'does not support'} bf16"
    found = sorted((cpu_flags() if flags is None else flags) & set(BF16_FLAGS))
    if found:
        return True, f"CPU has {', '.join(found)}"
    return False, "CPU has neither AMX nor AVX512-BF16 (bf16 would be emulated, far slower)"


def resolve_precision(
    requested: str, device: torch.device, flags: set[str] | None = None
) -> Precision:
    """``auto`` → bf16 where :func:`native_bf16` says so, else fp32; explicit names are kept.

    Raises :class:`InvalidRequest` for an unknown name.
    """
    if requested not in PRECISIONS:
        raise InvalidRequest(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    native, evidence = native_bf16(device, flags)
    if requested == "auto":
        return Precision("bf16" if native else "fp32", f"auto: {evidence}")
    note = "" if native or requested == "fp32" else " (warning: not native here, slow)"
    return Precision(requested, f"requested{note}: {evidence}")


@contextlib.contextmanager
def autocast(device: torch.device, precision: Precision) -> Iterator[None]:
    """Run the enclosed forward passes in ``precision`` (a no-op for fp32)."""
    if precision.dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=precision.dtype):
        yield
