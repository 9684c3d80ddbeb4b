"""Which number format training runs in: bf16 where the hardware makes it faster, else fp32.

bf16 autocast is a large win on CUDA GPUs and on CPUs with AMX, and a large loss where bf16
is emulated: on an AVX2-only AMD EPYC, one CycleGAN generator pass at 512² took 38 s under
bf16 autocast against 3 s in fp32. AVX512-BF16 without AMX goes either way: pix2pix trained
1.5× faster in bf16 on an AMD Zen 4, and 0.9× as fast on an Intel Xeon whose AMX the
hypervisor hides. So ``auto`` decides from what the machine reports at run time, and where
the flags do not decide, from a convolution timed both ways (:func:`bf16_pays`).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
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
        ok = torch.cuda.is_bf16_supported(including_emulation=False)  # emulated on a T4, a V100
        name = torch.cuda.get_device_name(device)
        return ok, f"{name} {'supports' if ok else 'does not support'} bf16"
    found = sorted((cpu_flags() if flags is None else flags) & set(BF16_FLAGS))
    if found:
        return True, f"CPU has {', '.join(found)}"
    return False, "CPU has neither AMX nor AVX512-BF16 (bf16 would be emulated, far slower)"


#: Where timed, bf16 must be this much faster than fp32 to be chosen: measured either side
#: of the line by far (1.5x on a Zen 4, 0.75x on a Xeon), and the margin keeps a noisy
#: timing from choosing by chance.
BF16_MARGIN = 1.1

#: Milliseconds of one training step of a probe convolution in fp32 and in bf16 autocast.
Probe = Callable[[], tuple[float, float]]


@functools.cache
def time_conv_step() -> tuple[float, float]:
    """fp32 and bf16 milliseconds (best of 3) of a forward and backward pass through two
    3×3 convolutions of 64 channels at 96², the bulk of a generator's training step
    (about 0.3 s in all). The random weights leave the global generator as it was, so a
    seeded run trains the same whether or not this ran first."""
    with torch.random.fork_rng(devices=[]):
        convs = [torch.nn.Conv2d(64, 64, 3, padding=1) for _ in range(2)]
        x = torch.randn(1, 64, 96, 96)
    net = torch.nn.Sequential(convs[0], torch.nn.ReLU(), convs[1])

    def best(bf16: bool) -> float:
        times = []
        for _ in range(4):  # the first one warms up
            start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                y = net(x)
            y.float().sum().backward()
            times.append(time.perf_counter() - start)
        return min(times[1:]) * 1000

    return best(False), best(True)


def bf16_pays(
    device: torch.device, flags: set[str] | None = None, probe: Probe = time_conv_step
) -> tuple[bool, str]:
    """Whether bf16 autocast trains faster than fp32 on ``device``, and the evidence.

    Native bf16 on a GPU or with AMX does; emulated bf16 does not; AVX512-BF16 without AMX
    is timed, and bf16 must win by :data:`BF16_MARGIN` (it also costs precision).
    """
    found = cpu_flags() if flags is None else flags
    native, evidence = native_bf16(device, found)
    if not native or device.type != "cpu" or "amx_bf16" in found:
        return native, evidence
    fp32_ms, bf16_ms = probe()
    timed = f"{evidence} but no AMX; a probe convolution took {bf16_ms:.1f} ms in bf16"
    return bf16_ms * BF16_MARGIN < fp32_ms, f"{timed}, {fp32_ms:.1f} ms in fp32"


def resolve_precision(
    requested: str,
    device: torch.device,
    flags: set[str] | None = None,
    probe: Probe = time_conv_step,
) -> Precision:
    """``auto`` → bf16 where :func:`bf16_pays` says so, else fp32; explicit names are kept.

    Raises :class:`InvalidRequest` for an unknown name.
    """
    if requested not in PRECISIONS:
        raise InvalidRequest(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested == "auto":
        faster, evidence = bf16_pays(device, flags, probe)
        return Precision("bf16" if faster else "fp32", f"auto: {evidence}")
    native, evidence = native_bf16(device, flags)
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
