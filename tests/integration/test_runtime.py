"""The real runtime in one process: SQLite file, local disk, real catalog and renderer."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner

from pixserve.bootstrap import build_pool, build_runtime
from pixserve.cli.main import cli
from pixserve.core.settings import Settings
from pixserve.domain.job import JobStatus
from pixserve.imaging import decode_image
from pixserve.services import Submission
from tests.support.images import jpeg_bytes, photo
from tests.support.models import conv_chain_model, write_onnx_bundle

BUILTIN = ["cartoon", "pencil", "pencil-color", "watercolor", "oil", "mosaic", "oil-fast"]


@pytest.fixture
def runtime(tmp_path):
    styles = tmp_path / "styles"
    write_onnx_bundle(styles, "tiny-net", conv_chain_model(layers=2), max_side=256)
    settings = Settings(data_dir=tmp_path / "data", styles_path=str(styles), poll_interval=0.05)
    rt = build_runtime(settings)
    yield rt
    rt.close()


def test_every_style_runs_through_queue_and_worker(runtime):
    data = jpeg_bytes(photo("chelsea"))  # 451×300
    ids = {
        style: runtime.service.submit(Submission(data=data, style=style)).id
        for style in [*BUILTIN, "tiny-net"]
    }
    pool = build_pool(runtime, 2)
    pool.start()
    try:
        deadline = time.monotonic() + 180  # every model loads for the first time here
        while time.monotonic() < deadline:
            statuses = {runtime.service.status(i).status for i in ids.values()}
            if all(s.is_terminal for s in statuses):
                break
            pool.workers[0].stop.wait(0.05)
    finally:
        pool.stop(grace_seconds=10)

    original = decode_image(data, max_bytes=10**8, max_pixels=10**8).pixels.astype(float)
    for style, job_id in ids.items():
        view = runtime.service.status(job_id)
        assert view.status is JobStatus.SUCCEEDED, (style, view)
        result = runtime.service.result(job_id)
        out = decode_image(result.data, max_bytes=10**8, max_pixels=10**8)
        expected = (256, 170) if style == "tiny-net" else (451, 300)
        assert out.size == expected, style
        if style != "tiny-net":
            assert np.abs(out.pixels.astype(float) - original).mean() > 5, style


def test_models_warmed_in_the_background_hold_readiness_until_warm(tmp_path, monkeypatch):
    # On a restart ``pixserve serve`` imports its web app while the models warm (OpenVINO
    # compiles without the GIL); /readyz must still say "not ready" until they are.
    from pixserve.core.errors import Unavailable
    from pixserve.pipeline.renderer import Renderer

    started, release = threading.Event(), threading.Event()
    warm = Renderer.warm

    def slow_warm(self):
        started.set()
        release.wait(10)
        return warm(self)

    styles = tmp_path / "styles"
    write_onnx_bundle(styles, "tiny-net", conv_chain_model(layers=2), max_side=256)
    settings = Settings(data_dir=tmp_path / "data", styles_path=str(styles))
    first = build_runtime(settings, background=True)
    first.renderer.check_warm()  # a first start times engines: in the foreground
    first.close()
    monkeypatch.setattr(Renderer, "warm", slow_warm)
    rt = build_runtime(settings, background=True)
    try:
        assert started.wait(10)  # build_runtime returned while the warm-up runs
        with pytest.raises(Unavailable):
            rt.renderer.check_warm()
        release.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                rt.renderer.check_warm()
                break
            except Unavailable:
                time.sleep(0.02)
        rt.renderer.check_warm()
        assert "tiny-net" in rt.renderer.engines_by_style()
    finally:
        release.set()
        rt.close()


def test_files_land_where_the_settings_say(runtime):
    job_id = runtime.service.submit(Submission(data=jpeg_bytes(photo("coffee")), style="oil")).id
    data_dir = runtime.settings.data_dir
    assert (data_dir / "pixserve.db").exists()
    assert list((data_dir / "blobs" / "jobs" / job_id).iterdir())


def test_cli_styles_and_db_upgrade(tmp_path, monkeypatch):
    monkeypatch.setenv("PIXSERVE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    listed = runner.invoke(cli, ["styles", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {s["name"] for s in json.loads(listed.output)} >= set(BUILTIN)
    table = runner.invoke(cli, ["styles"])
    assert "watercolor" in table.output and "NAME" in table.output

    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "revision" in upgraded.stdout
    assert (tmp_path / "pixserve.db").exists()
    again = runner.invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0 and again.stdout == upgraded.stdout  # log lines go to stderr


def test_cli_errors_are_one_line_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("PIXSERVE_DATA_DIR", str(tmp_path))
    image = tmp_path / "a.jpg"
    image.write_bytes(jpeg_bytes(photo("coffee")))
    result = CliRunner().invoke(cli, ["run", str(image), "--style", "nope", "--out", "o"])
    assert result.exit_code == 1
    assert "unknown_style" in result.output
    assert "Traceback" not in result.output


def test_styles_and_metrics_say_which_engine_runs_each_model(runtime):
    from fastapi.testclient import TestClient

    from pixserve.bootstrap import build_app

    engines = runtime.renderer.engines_by_style()
    assert set(engines) >= {"tiny-net", "mosaic", "oil-fast"}  # the ONNX-backed styles
    assert "cartoon" not in engines  # a classical operator runs no model
    with TestClient(build_app(runtime, workers=0)) as client:
        styles = {s["name"]: s for s in client.get("/v1/styles").json()["styles"]}
        tiny = styles["tiny-net"]["engine"]
        assert tiny == engines["tiny-net"]
        assert tiny["precision"] in ("fp32", "bf16") and tiny["reason"]
        assert styles["cartoon"]["engine"] is None
        metrics = client.get("/metrics").text
    assert f'pixserve_style_engine{{style="tiny-net",engine="{tiny["engine"]}"' in metrics


def test_a_batching_worker_gives_each_job_its_own_result(tmp_path, monkeypatch):
    settings = Settings(
        data_dir=tmp_path / "data",
        styles="mosaic",
        batch_size=3,
        poll_interval=0.05,
        result_format="png",  # lossless: the comparison below sees the model's own pixels
    )
    rt = build_runtime(settings)
    batches: list[int] = []
    render_batch = rt.renderer.render_batch

    def counted(style, items):
        batches.append(len(items))
        return render_batch(style, items)

    monkeypatch.setattr(rt.renderer, "render_batch", counted)
    photos = [photo(name)[:200, :240] for name in ("chelsea", "coffee", "astronaut")]
    photos.append(photo("chelsea")[40:240, 100:340])  # the size of the first, other pixels
    try:
        ids = [rt.service.submit(Submission(data=jpeg_bytes(p), style="mosaic")).id for p in photos]
        pool = build_pool(rt, 1)
        pool.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all(rt.service.status(i).status.is_terminal for i in ids):
                    break
                pool.workers[0].stop.wait(0.05)
        finally:
            pool.stop(grace_seconds=10)
        assert batches and batches[0] == 3  # the first three queued jobs ran together
        for job_id, p in zip(ids, photos, strict=True):
            assert rt.service.status(job_id).status is JobStatus.SUCCEEDED
            sent = decode_image(jpeg_bytes(p), max_bytes=10**8, max_pixels=10**8).pixels
            alone = rt.renderer.render("mosaic", sent).astype(float)
            out = decode_image(rt.service.result(job_id).data, max_bytes=10**8, max_pixels=10**8)
            assert out.pixels.shape == alone.shape
            difference = np.abs(out.pixels.astype(float) - alone)
            assert difference.mean() < 0.5 and np.percentile(difference, 99) <= 2
    finally:
        rt.close()
