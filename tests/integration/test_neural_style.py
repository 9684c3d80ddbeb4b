"""Acceptance: a ``neural-style`` bundle runs as a queued job through the real runtime.

The test makes its own VGG16 weights (random, only the layers the bundle reads), so the
render is fast; with real weights the same code paints (see docs/styles.md).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from pixserve.bootstrap import build_pool, build_runtime
from pixserve.core.settings import Settings
from pixserve.domain.job import JobStatus
from pixserve.imaging import decode_image
from pixserve.models.vgg import VGGFeatures, taps
from pixserve.services import Submission
from tests.support.images import jpeg_bytes, photo

LAYERS = ["relu1_1", "relu2_1", "relu2_2"]


def random_vgg(path: Path) -> Path:
    """A torchvision-format VGG16 file holding only the first layers, random weights."""
    torch.manual_seed(0)
    features = VGGFeatures(taps(LAYERS)).features.state_dict()
    torch.save({f"features.{k}": v for k, v in features.items()}, path)
    return path


def bundle(root: Path, iterations: int = 60) -> Path:
    folder = root / "painting-hd"
    folder.mkdir(parents=True)
    Image.fromarray(photo("coffee")[::6, ::6]).save(folder / "style.png")
    (folder / "style.toml").write_text(
        f"""name = "painting-hd"
title = "Painting HD"
kind = "neural-style"

[neural_style]
style_image = "style.png"
content_layers = ["relu2_2"]
style_layers = ["relu1_1", "relu2_1"]
style_weight = 1e3
passes = [{{ size = 48, iterations = {iterations} }}, {{ size = 80, iterations = {iterations} }}]
"""
    )
    return folder


@pytest.fixture
def runtime(tmp_path: Path):  # type: ignore[no-untyped-def]
    bundle(tmp_path / "styles")
    settings = Settings(
        data_dir=tmp_path / "data",
        styles_path=str(tmp_path / "styles"),
        vgg_path=random_vgg(tmp_path / "vgg16.pth"),
        poll_interval=0.05,
        progress_interval=0.01,
    )
    rt = build_runtime(settings)
    yield rt
    rt.close()


def test_both_passes_run_with_progress_that_moves(runtime) -> None:  # type: ignore[no-untyped-def]
    job_id = runtime.service.submit(
        Submission(data=jpeg_bytes(photo("chelsea")), style="painting-hd")
    ).id
    pool = build_pool(runtime, 1)
    pool.start()
    seen: list[float] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            view = runtime.service.status(job_id)
            if view.progress is not None and (not seen or view.progress != seen[-1]):
                seen.append(view.progress)
            if view.status.is_terminal:
                break
            time.sleep(0.005)
    finally:
        pool.stop(grace_seconds=10)
    view = runtime.service.status(job_id)
    assert view.status is JobStatus.SUCCEEDED, view
    assert seen == sorted(seen), seen  # never goes back
    assert len(set(seen)) >= 20, seen  # moves during the render, not only between steps
    result = decode_image(runtime.service.result(job_id).data, max_bytes=10**8, max_pixels=10**8)
    assert result.size == (80, 53)  # the last pass's size: 451×300 → 80 px on the longer side


def test_a_pipeline_of_this_kind_is_built_without_importing_torch(tmp_path: Path) -> None:
    bundle(tmp_path / "styles")
    vgg = random_vgg(tmp_path / "vgg16.pth")
    code = (
        "import sys\n"
        "from pixserve.inference import EngineCache\n"
        "from pixserve.pipeline import build_pipeline, load_bundle\n"
        f"style = load_bundle({str(tmp_path / 'styles' / 'painting-hd')!r})\n"
        f"build_pipeline(style, EngineCache(), vgg_path={str(vgg)!r})\n"
        "print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
