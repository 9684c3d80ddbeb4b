"""Reproduce the sample grid and loss curves in docs/training.md on this machine's CPU.

A sketch → photo pix2pix, trained at 128 px on 160-px crops of six photos that ship with
scikit-image and matplotlib, validated on crops of a seventh photo it never sees. It runs
the real commands (dataset sketch, train, export) and copies the last sample grid and the
loss curves into docs/images/. About ten minutes on two cores.

    .venv/bin/python scripts/training_demo.py [WORKDIR] [--epochs N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from matplotlib.cbook import get_sample_data
from PIL import Image

DOCS = Path(__file__).resolve().parent.parent / "docs" / "images"
TRAIN = ("astronaut", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "grace")
VAL = ("coffee",)
CROP, STRIDE, SHORT_SIDE = 160, 56, 320


def photo(name: str) -> np.ndarray:
    if name == "grace":
        return np.array(Image.open(get_sample_data("grace_hopper.jpg")).convert("RGB"))
    return np.ascontiguousarray(getattr(skimage.data, name)()[..., :3])


def write_crops(names: tuple[str, ...], folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for name in names:
        img = photo(name)
        h, w = img.shape[:2]
        f = SHORT_SIDE / min(h, w)
        img = cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        for y in range(0, img.shape[0] - CROP + 1, STRIDE):
            for x in range(0, img.shape[1] - CROP + 1, STRIDE):
                crop = img[y : y + CROP, x : x + CROP]
                Image.fromarray(crop).save(folder / f"{name}-{y}-{x}.png")
                n += 1
    return n


def pixserve(*args: str) -> None:
    command = [sys.executable, "-m", "pixserve.cli", *args]
    print("$ pixserve " + " ".join(args), flush=True)
    subprocess.run(command, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", nargs="?", default="training-demo")
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    print(f"{write_crops(TRAIN, work / 'crops-train')} training crops, "
          f"{write_crops(VAL, work / 'crops-val')} validation crops")  # fmt: skip
    pixserve("dataset", "sketch", str(work / "crops-train"), str(work / "pairs" / "train"),
             "--size", "144")  # fmt: skip
    pixserve("dataset", "sketch", str(work / "crops-val"), str(work / "pairs" / "val"),
             "--size", "144")  # fmt: skip
    run = work / "run"
    pixserve("train", "pix2pix", str(work / "pairs"), "--out", str(run), "--size", "128",
             "--load-size", "144", "--epochs", str(args.epochs), "--samples", "4",
             "--save-every", "10")  # fmt: skip
    pixserve("export", str(run), "--name", "sketch2photo", "--styles-dir", str(work / "styles"))
    DOCS.mkdir(parents=True, exist_ok=True)
    last = sorted((run / "samples").glob("epoch_*.png"))[-1]
    shutil.copyfile(last, DOCS / "training-samples.png")
    shutil.copyfile(run / "losses.png", DOCS / "training-losses.png")
    print(f"copied {last.name} and losses.png to {DOCS}")


if __name__ == "__main__":
    main()
