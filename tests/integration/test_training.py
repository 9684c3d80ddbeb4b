"""Acceptance of the training toolkit: photos → dataset → training → style → a served job.

Each flow runs the real commands in order (``dataset sketch``, ``dataset split``,
``train``, ``export``), then submits a job to the real runtime (SQLite, disk, workers) and
checks the image that comes back. Tiny images and widths keep the three under a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from click.testing import CliRunner

from pixserve.bootstrap import build_pool, build_runtime
from pixserve.cli.main import cli
from pixserve.core.settings import Settings
from pixserve.domain.job import JobStatus
from pixserve.imaging import decode_image
from pixserve.models.vgg import VGGFeatures, taps
from pixserve.pipeline import load_bundle
from pixserve.services import Submission
from tests.support.datasets import write_photos, write_unaligned
from tests.support.images import jpeg_bytes, photo

TINY_P2P = ["--levels", "5", "--ngf", "4", "--ndf", "4", "--size", "32", "--epochs", "1"]


def pixserve(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def serve_one(styles: Path, data_dir: Path, style: str) -> np.ndarray:
    """Run one job of ``style`` through the real runtime; the result's pixels."""
    settings = Settings(data_dir=data_dir, styles_path=str(styles), poll_interval=0.05)
    runtime = build_runtime(settings)
    try:
        data = jpeg_bytes(photo("chelsea"))
        job_id = runtime.service.submit(Submission(data=data, style=style)).id
        pool = build_pool(runtime, 1)
        pool.start()
        try:
            for _ in range(600):
                if runtime.service.status(job_id).status.is_terminal:
                    break
                pool.workers[0].stop.wait(0.05)
        finally:
            pool.stop(grace_seconds=10)
        view = runtime.service.status(job_id)
        assert view.status is JobStatus.SUCCEEDED, view
        result = runtime.service.result(job_id)
        return decode_image(result.data, max_bytes=10**8, max_pixels=10**8).pixels
    finally:
        runtime.close()


def test_sketch_to_face_recipe_pix2pix(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos", 6, side=48)
    out = pixserve(
        "dataset", "sketch", str(tmp_path / "photos"), str(tmp_path / "pairs"), "--size", "32"
    )
    assert "6" in out
    pixserve("dataset", "split", str(tmp_path / "pairs"), "--val", "0.34", "--seed", "1")
    assert len(list((tmp_path / "pairs" / "val").glob("*.png"))) == 2
    run = tmp_path / "run"
    pixserve("train", "pix2pix", str(tmp_path / "pairs"), "--out", str(run), *TINY_P2P, "--quiet")
    out = pixserve(
        "export", str(run), "--name", "sketch2face", "--styles-dir", str(tmp_path / "styles")
    )
    assert "max abs error" in out and "thumbnail written" in out
    style = load_bundle(tmp_path / "styles" / "sketch2face")
    assert style.max_side == 32 and style.thumbnail is not None  # served at its training size
    pixels = serve_one(tmp_path / "styles", tmp_path / "data", "sketch2face")
    assert pixels.shape == (21, 32, 3)  # 451×300 limited to 32 px, padded for the U-Net, cut back


def test_unpaired_cyclegan(tmp_path: Path) -> None:
    write_unaligned(tmp_path / "horses", 4, side=40)
    run = tmp_path / "run"
    pixserve(
        "train", "cyclegan", str(tmp_path / "horses"), "--out", str(run),
        "--blocks", "1", "--ngf", "4", "--ndf", "4", "--size", "32", "--epochs", "1", "--quiet",
    )  # fmt: skip
    styles = tmp_path / "styles"
    pixserve("export", str(run), "--name", "to-b", "--styles-dir", str(styles))
    pixserve("export", str(run), "--name", "to-a", "--net", "G_B", "--styles-dir", str(styles))
    for name in ("to-b", "to-a"):
        pixels = serve_one(styles, tmp_path / "data", name)
        assert pixels.shape == (300, 451, 3)  # fully convolutional: any size, up to 1024


def test_fast_style_with_random_vgg_weights(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos" / "train", 4, side=48)
    features = VGGFeatures(taps(["relu4_3"])).features.state_dict()
    torch.save({f"features.{k}": v for k, v in features.items()}, tmp_path / "vgg16.pth")
    style_image = tmp_path / "style.png"
    from PIL import Image

    Image.fromarray(photo("coffee")[::8, ::8]).save(style_image)
    run = tmp_path / "run"
    pixserve(
        "train", "fast-style", str(tmp_path / "photos"), "--out", str(run),
        "--style-image", str(style_image), "--vgg", str(tmp_path / "vgg16.pth"),
        "--width", "4", "--residual", "1", "--size", "32", "--epochs", "1", "--quiet",
    )  # fmt: skip
    pixserve("export", str(run), "--name", "mosaic", "--styles-dir", str(tmp_path / "styles"))
    pixels = serve_one(tmp_path / "styles", tmp_path / "data", "mosaic")
    assert pixels.shape == (300, 451, 3)


def test_import_reads_a_runs_generator(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos", 3, side=40)
    pixserve("dataset", "sketch", str(tmp_path / "photos"), str(tmp_path / "pairs"), "--size", "32")
    run = tmp_path / "run"
    pixserve("train", "pix2pix", str(tmp_path / "pairs"), "--out", str(run), *TINY_P2P, "--quiet")
    checkpoint = run / "checkpoints" / "latest_net_G.pth"
    out = pixserve(
        "import", "auto", str(checkpoint), "--name", "mine", "--styles-dir", str(tmp_path)
    )
    assert "pix2pix: UnetGenerator unet_32, ngf 4" in out


def test_torchrun_two_cpu_processes_train_to_completion(tmp_path: Path) -> None:
    write_unaligned(tmp_path / "data", 4, side=40)
    torchrun = Path(sys.executable).with_name("torchrun")
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "pixserve.cli"]
    command += ["train", "cyclegan", str(tmp_path / "data"), "--out", str(run), "--quiet"]
    command += ["--blocks", "1", "--ngf", "4", "--ndf", "4", "--size", "32", "--epochs", "2"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "× 2 processes" in done.stdout
    assert done.stdout.count("trained 2 epochs") == 1  # rank 0 reports, rank 1 does not
    rows = (run / "losses.csv").read_text().splitlines()
    assert rows[-1].startswith("2,4,8,")  # 2 epochs of 2 steps per process, 8 images in all
    assert (run / "checkpoints" / "latest_net_G_A.pth").is_file()


def test_distill_a_classical_style(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos", 5, side=64)
    out = pixserve(
        "dataset", "pairs", str(tmp_path / "photos"), str(tmp_path / "pairs"),
        "--teacher", "oil", "--size", "0",
    )  # fmt: skip
    assert "5 pairs of 5 photos" in out
    pixserve("dataset", "split", str(tmp_path / "pairs"), "--val", "0.4", "--seed", "0")
    run = tmp_path / "run"
    out = pixserve(
        "train", "distill", str(tmp_path / "pairs"), "--out", str(run), "--quiet",
        "--width", "4", "--depth", "1", "--size", "32", "--epochs", "1",
    )  # fmt: skip
    # Judged on the held-out pairs at full size against the teacher, and timed against it.
    assert "held-out (2 images, full size): psnr" in out and "lpips" in out
    assert "teacher 'oil'" in out
    report = json.loads((run / "eval.json").read_text())
    assert report["images"] == 2 and report["psnr"] > 0 and report["teacher"] == "oil"
    assert report["teacher_seconds"] > 0 and report["student_seconds"] > 0
    pixserve("export", str(run), "--name", "oil-student", "--styles-dir", str(tmp_path / "styles"))
    pixels = serve_one(tmp_path / "styles", tmp_path / "data", "oil-student")
    assert pixels.shape == (300, 451, 3)
