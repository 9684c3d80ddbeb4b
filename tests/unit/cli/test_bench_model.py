"""``pixserve bench model`` through click, on a tiny ONNX style built here."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pixserve.cli.bench import bench
from pixserve.inference import bench as inference_bench
from tests.support.models import conv_chain_model, write_onnx_bundle

FAST = ("--size", "64", "--runs", "2", "--warmup", "1")
#: Three 3×3 convolutions 3 → 8 → 8 → 3 at 64×64, stride 1, same padding: 2·MACs.
CHAIN_FLOPS = 2 * 64 * 64 * 9 * (3 * 8 + 8 * 8 + 8 * 3)


@pytest.fixture
def styles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(inference_bench, "MATMUL_N", 256)  # the rate, not its precision, matters
    root = tmp_path / "styles"
    write_onnx_bundle(root, "chain", conv_chain_model(layers=3, width=8))
    write_onnx_bundle(root, "batches", conv_chain_model(layers=3, width=8, batch="n"))
    return root


def invoke(styles: Path, *args: str) -> Result:
    env = {"PIXSERVE_STYLES_PATH": str(styles), "PIXSERVE_DATA_DIR": str(styles.parent / "data")}
    return CliRunner().invoke(bench, ["model", *args], env=env)


def test_prints_the_machine_the_decision_and_a_row_per_engine(styles: Path) -> None:
    result = invoke(styles, "chain", *FAST, "--engine", "onnxruntime")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("chain at 64×64 on ") and "cores)" in lines[0]
    assert lines[1] == "engine onnxruntime/cpu/fp32: engine 'onnxruntime' asked for"
    header = lines[lines.index("") + 1]
    for field in ("engine", "precision", "img/s", "p50 ms", "p99 ms", "GFLOP/s", "% of matmul",
                  "PSNR dB", "peak RSS MB"):  # fmt: skip
        assert field in header
    row = lines[lines.index(header) + 1].split()
    assert row[:2] == ["onnxruntime/cpu", "fp32"]
    assert row[-2] == "exact"  # fp32 ORT against itself
    assert float(row[2]) > 0 and row[6].endswith("%")


def test_json_has_the_flops_of_the_conv_chain(styles: Path) -> None:
    result = invoke(styles, str(styles / "chain"), *FAST, "--engine", "onnxruntime", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["flops"] == CHAIN_FLOPS
    assert report["style"] == "chain" and report["size"] == 64
    assert report["input_shape"] == [1, 3, 64, 64]
    assert report["matmul_gflops"] > 0 and "cores" in report["machine"]
    assert report["decision"]["spec"] == "onnxruntime/cpu/fp32"
    [row] = report["rows"]
    assert row["engine"] == "onnxruntime/cpu" and row["exact"] and row["psnr_db"] is None
    assert row["gflops"] == pytest.approx(CHAIN_FLOPS * row["images_per_second"] / 1e9)
    assert row["p50_ms"] <= row["p99_ms"] and row["peak_rss_mb"] > 0
    assert "ratio" not in report


def test_compare_prints_both_rows_and_the_ratio(styles: Path) -> None:
    result = invoke(styles, "chain", *FAST, "--engine", "openvino/cpu/fp32", "--compare")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("onnxruntime/cpu  ") and " fp32 " in line for line in lines)
    assert any(line.startswith("openvino/cpu  ") for line in lines)
    assert re.fullmatch(
        r"openvino/cpu/fp32 is \d+\.\d× onnxruntime/cpu/fp32 at "
        r"(\d+\.\d dB|exact \(identical output\))",
        lines[-1],
    ), lines[-1]


def test_compare_with_fp32_onnxruntime_says_it_is_the_same_engine(styles: Path) -> None:
    result = invoke(styles, "chain", *FAST, "--engine", "onnxruntime", "--compare", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["same_engine"] is True and report["ratio"] is None
    assert len(report["rows"]) == 1


@pytest.mark.parametrize(
    ("style", "code"), [("cartoon", "invalid_request"), ("no-such-style", "unknown_style")]
)
def test_a_style_without_an_onnx_model_is_refused(styles: Path, style: str, code: str) -> None:
    result = invoke(styles, style, *FAST)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # friendly_errors, not a traceback
    assert f"({code})" in result.stderr
    if code == "invalid_request":
        assert "kind 'builtin'" in result.stderr


def test_batch_runs_several_images_at_once(styles: Path) -> None:
    args = (*FAST, "--engine", "onnxruntime", "--json", "--batch", "3")
    report = json.loads(invoke(styles, "batches", *args).stdout)
    assert report["input_shape"] == [3, 3, 64, 64]
    assert report["flops"] == 3 * CHAIN_FLOPS  # per run: three images
    [row] = report["rows"]
    assert row["images_per_second"] == pytest.approx(3000 / row["p50_ms"], rel=0.5)


def test_batch_is_refused_for_a_model_that_fixes_its_batch_at_one(styles: Path) -> None:
    result = invoke(styles, "chain", *FAST, "--engine", "onnxruntime", "--batch", "2")
    assert result.exit_code != 0
    assert "fixes its batch size at one" in result.output
    assert "Traceback" not in result.output


def test_a_process_cpu_time_is_read_from_proc_as_the_kernel_counts_it() -> None:
    # bench e2e charges each job the server's CPU seconds, read from /proc/<pid>/stat.
    from pixserve.cli.bench_system import process_cpu_seconds

    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn some CPU, so both readings move
        pass
    times = os.times()
    assert process_cpu_seconds(os.getpid()) == pytest.approx(times.user + times.system, abs=0.05)


def test_says_when_the_input_runs_in_bands_of_rows(styles: Path) -> None:
    env = {"PIXSERVE_STYLES_PATH": str(styles), "PIXSERVE_DATA_DIR": str(styles.parent / "data")}
    args = ["model", "chain", "--size", "400", "--runs", "1", "--warmup", "0"]
    args += ["--engine", "onnxruntime"]
    for budget, rows in [("1", True), ("0", False)]:
        result = CliRunner().invoke(bench, args, env={**env, "PIXSERVE_RUN_MEMORY_MB": budget})
        assert result.exit_code == 0, result.output
        assert ("bands of rows" in result.stdout) is rows
        result = CliRunner().invoke(
            bench, [*args, "--json"], env={**env, "PIXSERVE_RUN_MEMORY_MB": budget}
        )
        assert json.loads(result.stdout)["in_rows"] is rows
