"""How long each style takes on one image, on this machine.

    .venv/bin/python benchmarks/styles_latency.py --side 1024 --repeat 5

Prints, per style, the median and worst render time of the pipeline alone (no queue, no
decode/encode) and what that means in images per hour for one worker.
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from pixserve.core.settings import get_settings
from pixserve.pipeline import Catalog
from pixserve.pipeline.renderer import Renderer


def sample(side: int) -> np.ndarray:
    """scikit-image's astronaut, resized so its longer side is ``side``."""
    from skimage import data

    image = data.astronaut()
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--styles", default="", help="comma-separated; default: all")
    args = parser.parse_args()

    catalog = Catalog.load(get_settings().style_dirs)
    renderer = Renderer(catalog)
    renderer.warm()
    image = sample(args.side)
    names = [s for s in args.styles.split(",") if s] or catalog.names()
    print(
        f"{args.side}×{args.side} RGB, {args.repeat} runs each, cv2 threads={cv2.getNumThreads()}"
    )
    print(f"{'style':<14}{'median s':>10}{'worst s':>10}{'img/h/worker':>14}")
    for name in names:
        renderer.render(name, image)  # first run pays for caches
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            renderer.render(name, image)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"{name:<14}{median:>10.3f}{max(times):>10.3f}{3600 / median:>14,.0f}")


if __name__ == "__main__":
    main()
