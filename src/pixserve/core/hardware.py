"""What this machine's CPU can do, read at run time (machines differ; nothing is assumed).

Training chooses its autocast precision from these flags and serving its inference engine:
bf16 matrix work is ~5× faster than fp32 on Intel CPUs with AMX, and emulated (~12× slower)
on AVX2-only CPUs. Every benchmark figure is quoted next to :func:`describe`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
#: Flags that mean native bf16 arithmetic: Intel AMX; AVX512-BF16 (Intel Cooper Lake and
#: later, AMD Zen 4 and later).
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
#: Flags that mean fast int8 dot products (VNNI, AMX-INT8).
INT8_FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni")
#: The flags quoted with every figure.
SHOWN_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")


@dataclass(frozen=True)
class Cpu:
    """The CPU's model name, its feature flags and the cores this process may use."""

    model: str
    flags: frozenset[str]
    cores: int

    @property
    def amx(self) -> bool:
        return "amx_bf16" in self.flags

    @property
    def bf16(self) -> bool:
        """Native bf16 arithmetic (AMX or AVX512-BF16)."""
        return bool(self.flags & set(BF16_FLAGS))

    @property
    def int8(self) -> bool:
        """Native int8 dot products (VNNI or AMX-INT8)."""
        return bool(self.flags & set(INT8_FLAGS))

    def describe(self) -> str:
        """``"Intel(R) Xeon(R) … (avx2, avx512f, amx_bf16; 2 cores)"``, quoted with figures."""
        shown = [f for f in SHOWN_FLAGS if f in self.flags] or ["none of avx2/avx512/amx"]
        return f"{self.model} ({', '.join(shown)}; {self.cores} cores)"


def cpu_flags(cpuinfo: Path = CPUINFO) -> set[str]:
    """The CPU feature flags the kernel reports (empty where there is no /proc/cpuinfo)."""
    return set(_field(cpuinfo, ("flags", "Features")).split())


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    return _field(cpuinfo, ("model name",)) or "unknown CPU"


@functools.cache
def this_cpu() -> Cpu:
    """This machine's :class:`Cpu` (read once)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return Cpu(cpu_model(), frozenset(cpu_flags()), cores)


def _field(cpuinfo: Path, keys: tuple[str, ...]) -> str:
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keys:
            return value.strip()
    return ""
