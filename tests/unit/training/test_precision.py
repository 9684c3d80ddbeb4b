"""Precision is chosen from what the machine reports, never assumed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pixserve.core.errors import InvalidRequest
from pixserve.core.hardware import cpu_flags
from pixserve.training import runner
from pixserve.training.distributed import Cluster
from pixserve.training.precision import Precision, autocast, resolve_precision, time_conv_step
from pixserve.training.run import DataConfig, LoopConfig, RunConfig

CPU = torch.device("cpu")
AVX2_EPYC = {"sse4_2", "avx", "avx2", "fma"}
SAPPHIRE_RAPIDS = AVX2_EPYC | {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
ZEN4 = AVX2_EPYC | {"avx512f", "avx512_bf16"}


def test_reads_the_flags_line(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512_bf16\n\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()


def untimed() -> tuple[float, float]:
    raise AssertionError("the flags decide here: nothing is timed")


@pytest.mark.parametrize(("flags", "expected"), [(AVX2_EPYC, "fp32"), (SAPPHIRE_RAPIDS, "bf16")])
def test_auto_takes_bf16_only_where_it_is_native(flags: set[str], expected: str) -> None:
    chosen = resolve_precision("auto", CPU, flags, probe=untimed)
    assert chosen.name == expected
    assert chosen.reason.startswith("auto: CPU has")


@pytest.mark.parametrize(
    ("fp32_ms", "bf16_ms", "expected"),
    [(30.0, 20.0, "bf16"), (21.6, 28.8, "fp32"), (20.0, 19.0, "fp32")],  # the last: too close
)
def test_avx512_bf16_without_amx_is_timed(fp32_ms: float, bf16_ms: float, expected: str) -> None:
    """A Zen 4 trains faster in bf16; an Intel Xeon whose AMX is hidden, in fp32."""
    chosen = resolve_precision("auto", CPU, ZEN4, probe=lambda: (fp32_ms, bf16_ms))
    assert chosen.name == expected
    assert f"{bf16_ms:.1f} ms in bf16, {fp32_ms:.1f} ms in fp32" in chosen.reason
    assert resolve_precision("bf16", CPU, ZEN4, probe=untimed).name == "bf16"  # asked: kept


def test_the_probe_times_both_formats_on_this_cpu() -> None:
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    time_conv_step.cache_clear()
    fp32_ms, bf16_ms = time_conv_step()
    assert torch.equal(torch.rand(3), expected)  # a seeded run is the same with or without it
    assert fp32_ms > 0 and bf16_ms > 0
    assert time_conv_step() == (fp32_ms, bf16_ms)  # once per process


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


@pytest.mark.parametrize(
    ("chosen", "native", "expected"),
    [("bf16", True, "bf16"), ("bf16", False, "fp32"), ("fp32", True, "fp32")],
)
def test_a_resumed_auto_run_keeps_its_start_s_choice_where_it_can(
    monkeypatch: pytest.MonkeyPatch, chosen: str, native: bool, expected: str
) -> None:
    """A timing near the line must not flip a run's format between its starts; bf16
    chosen on a machine that had it is dropped on one that does not."""
    monkeypatch.setattr(runner, "native_bf16", lambda device: (native, "flags"))
    monkeypatch.setattr(runner, "resolve_precision", lambda name, device: Precision("fp32", "x"))
    config = RunConfig("pix2pix", LoopConfig(chosen_precision=chosen), DataConfig("data"), {})
    cluster = Cluster(CPU)
    assert runner._precision(config, cluster, resumed=True).name == expected
    assert runner._precision(config, cluster, resumed=False).name == "fp32"  # a new run: decided
