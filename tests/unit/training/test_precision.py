"""Precision is chosen from what the machine reports, never assumed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pixserve.core.errors import InvalidRequest
from pixserve.core.hardware import cpu_flags
from pixserve.training.precision import autocast, resolve_precision

CPU = torch.device("cpu")
AVX2_EPYC = {"sse4_2", "avx", "avx2", "fma"}
SAPPHIRE_RAPIDS = AVX2_EPYC | {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
ZEN4 = AVX2_EPYC | {"avx512f", "avx512_bf16"}


def test_reads_the_flags_line(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512_bf16\n\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize(
    ("flags", "expected"), [(AVX2_EPYC, "fp32"), (SAPPHIRE_RAPIDS, "bf16"), (ZEN4, "bf16")]
)
def test_auto_takes_bf16_only_where_it_is_native(flags: set[str], expected: str) -> None:
    chosen = resolve_precision("auto", CPU, flags)
    assert chosen.name == expected
    assert chosen.reason.startswith("auto: CPU has")


def test_an_explicit_choice_is_kept_and_warned_about() -> None:
    forced = resolve_precision("bf16", CPU, AVX2_EPYC)
    assert forced.name == "bf16" and "slow" in forced.reason
    assert resolve_precision("fp32", CPU, SAPPHIRE_RAPIDS).name == "fp32"
    with pytest.raises(InvalidRequest, match="precision must be one of"):
        resolve_precision("fp16", CPU, AVX2_EPYC)


@pytest.mark.parametrize("name", ["fp32", "bf16"])
def test_autocast_runs_in_the_chosen_format(name: str) -> None:
    layer = torch.nn.Conv2d(3, 4, 3)
    with autocast(CPU, resolve_precision(name, CPU, SAPPHIRE_RAPIDS)):
        out = layer(torch.randn(1, 3, 8, 8))
    assert out.dtype == (torch.bfloat16 if name == "bf16" else torch.float32)
