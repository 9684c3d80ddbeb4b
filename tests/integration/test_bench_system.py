"""``pixserve bench e2e``, ``bench coldstart`` and ``bench memory`` against real server
processes (tiny sizes: the figures are not checked, only that they are measured and
reported)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pixserve.cli.main import cli
from pixserve.inference.openvino import RELEASE_AFTER_IDLE_S
from tests.support.models import conv_chain_model, write_onnx_bundle


def run(tmp_path, monkeypatch, *args: str) -> dict:
    styles = tmp_path / "styles"
    write_onnx_bundle(styles, "tiny-net", conv_chain_model(layers=2), max_side=256)
    monkeypatch.setenv("PIXSERVE_STYLES_PATH", str(styles))
    monkeypatch.setenv("PIXSERVE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["bench", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_e2e_measures_the_system_and_the_model(tmp_path, monkeypatch) -> None:
    found = run(
        tmp_path, monkeypatch, "e2e", "--style", "tiny-net", "--images", "3", "--clients", "2",
        "--size", "64",
    )  # fmt: skip
    assert found["e2e_images_per_s"] > 0 and found["model_images_per_s"] > 0
    assert found["ratio"] > 0 and found["status_p99_ms"] >= found["status_p50_ms"] > 0
    # Three jobs cost the server CPU, and the model alone some too: the ceiling follows.
    assert found["server_cpu_ms_per_job"] > 0 and found["model_cpu_ms_per_image"] > 0
    assert found["cores"] >= 1 and found["ratio_ceiling"] > 0
    # /metrics counted the run's three successes: the worker held each at least a moment.
    assert found["worker_ms_per_job"] > 0 and found["model_ms_per_image"] > 0
    assert found["model_ms_before"] > 0 and found["model_ms_after"] > 0  # the model, twice
    assert found["machine"]


def test_coldstart_times_a_cold_start_and_a_restart(tmp_path, monkeypatch) -> None:
    found = run(tmp_path, monkeypatch, "coldstart", "--style", "tiny-net", "--size", "64")
    starts = [row["start"] for row in found["rows"]]
    assert starts == ["empty data dir", "restart"]
    for row in found["rows"]:
        assert 0 < row["ready_s"] <= row["first_result_s"]


def test_memory_follows_a_restarted_server_over_mixed_sizes(tmp_path, monkeypatch) -> None:
    found = run(
        tmp_path, monkeypatch, "memory", "--style", "tiny-net", "--images", "3",
        "--min-side", "32", "--max-side", "96",
    )  # fmt: skip
    assert [i for i, _ in found["readings"]] == [0, 3]
    assert found["first_start_mb"] > 0 and found["last_mb"] > 0
    # the mark was reset at ready, so it is at least what the server held while serving
    assert found["high_water_mb"] >= max(mb for _, mb in found["readings"])
    # the process's own part, beside the whole
    assert [i for i, _ in found["anon_readings"]] == [0, 3]
    for (_, whole), (_, own) in zip(found["readings"], found["anon_readings"], strict=True):
        assert 0 < own < whole
    assert max(own for _, own in found["anon_readings"]) <= found["anon_peak_mb"]
    assert found["anon_peak_mb"] <= found["high_water_mb"]
    # read once the engines' idle release is due
    assert found["idle_after_s"] > RELEASE_AFTER_IDLE_S
    assert 0 < found["idle_anon_mb"] < found["idle_mb"] <= found["high_water_mb"]
