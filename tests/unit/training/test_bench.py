"""``pixserve bench train`` times the real training step and names the machine."""

from __future__ import annotations

from click.testing import CliRunner

from pixserve.cli.main import cli
from pixserve.training.bench import BenchResult, bench_train, machine


def test_times_each_precision_asked_for() -> None:
    results = bench_train(
        "cyclegan",
        size=32,
        steps=2,
        warmup=1,
        precisions=["fp32", "bf16"],
        generator={"ngf": 4, "n_blocks": 1},
        echo=lambda _: None,
    )
    assert [r.precision for r in results] == ["fp32", "bf16"]
    assert all(r.seconds_per_step > 0 for r in results)


def test_epoch_time_counts_batches() -> None:
    r = BenchResult("fp32", seconds_per_step=0.5, batch_size=4)
    assert r.steps_per_second == 2.0
    assert r.seconds_per_epoch(10) == 1.5  # 3 batches of 4


def test_the_command_prints_the_cpu_and_a_table() -> None:
    result = CliRunner().invoke(
        cli, ["bench", "train", "fast-style", "--size", "32", "--steps", "1", "--warmup", "0",
              "--precision", "fp32", "--images", "8"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert machine().split(" (")[0] in result.output
    assert "s/epoch" in result.output and "fp32" in result.output
