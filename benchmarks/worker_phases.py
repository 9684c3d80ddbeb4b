"""Where a worker's time per job goes, phase by phase (one process, nothing else running).

    .venv/bin/python benchmarks/worker_phases.py --style oil-fast [--size 512] [--jobs 30]

Builds the runtime on a fresh data dir, as ``pixserve serve`` does with its defaults (SQLite,
local disk), submits ``--jobs`` copies of the sample photo at ``--size``² through
``JobService.submit``, then runs them one by one with ``Worker.run_once``, timing each
phase: its wall time and the worker thread's own CPU time (a model's other threads are not
in that column). A fast model (oil-fast) shows the rest best: with the ResNet-9 the model
is everything. ``--size 3024`` sends phone-sized photos, which the worker decodes near the
style's ``max_side``. Run it in another tree with ``PYTHONPATH=<tree>/src`` to compare
versions; the disk's ``fsync`` is in the wall times, so run both on one machine.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

#: Phases as printed; "render" includes "model" (its engine runs).
PHASES = ("claim", "decode", "render", "model", "encode", "store", "finish", "aftercare")
WALL: dict[str, float] = dict.fromkeys(("job", *PHASES), 0.0)
CPU: dict[str, float] = dict.fromkeys(("job", *PHASES), 0.0)


def timed(phase: str, call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def run(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return call(*args, **kwargs)
        finally:
            WALL[phase] += time.perf_counter() - wall
            CPU[phase] += time.thread_time() - cpu

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="oil-fast")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--jobs", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(PIXSERVE_DATA_DIR=tmp, PIXSERVE_STYLES=args.style)
        import cv2
        from PIL import Image

        import pixserve.worker.loop as loop
        from pixserve.bootstrap import build_pool, build_runtime
        from pixserve.core.hardware import this_cpu
        from pixserve.core.settings import get_settings
        from pixserve.imaging.sample import sample_photo
        from pixserve.services import Submission

        runtime = build_runtime(get_settings())
        worker = build_pool(runtime, 1).workers[0]  # not started: jobs run one by one here
        pipeline = runtime.renderer.pipeline(args.style)
        pixels = cv2.resize(sample_photo(), (args.size, args.size), interpolation=cv2.INTER_CUBIC)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
        photo = buffer.getvalue()

        def run_jobs(count: int) -> None:
            for _ in range(count):
                runtime.service.submit(Submission(data=photo, style=args.style))
            for _ in range(count):
                assert worker.run_once()

        run_jobs(2)  # compile this shape and warm the caches first
        for step in pipeline.steps:
            engine = getattr(step, "engine", None)
            if engine is not None:
                engine.run = timed("model", engine.run)
        worker.run_once = timed("job", worker.run_once)
        worker.jobs.claim = timed("claim", worker.jobs.claim)
        worker._decode = timed("decode", worker._decode)
        worker.renderer.render = timed("render", worker.renderer.render)
        loop.encode_image = timed("encode", loop.encode_image)
        worker.blobs.put = timed("store", worker.blobs.put)
        worker._succeed = timed("finish", worker._succeed)
        if worker.aftercare is not None:
            worker.aftercare.finished = timed("aftercare", worker.aftercare.finished)
        for phase in WALL:
            WALL[phase] = CPU[phase] = 0.0
        submitted = time.perf_counter()
        run_jobs(args.jobs)
        elapsed = time.perf_counter() - submitted
        engine_name = pipeline.engine.spec if pipeline.engine else "operator"
        runtime.close()

    jobs = args.jobs
    print(f"{args.style} at {args.size}×{args.size} ({engine_name}), {jobs} jobs one by one, "
          f"on {this_cpu().describe()}")  # fmt: skip
    print(f"{'phase':<11} {'wall ms/job':>11} {'CPU ms/job':>11} {'share':>6}")
    listed = [p for p in PHASES if p != "model"]
    rows = [("job", WALL["job"], CPU["job"])]
    for phase in PHASES:
        rows.append((phase if phase != "model" else "  model", WALL[phase], CPU[phase]))
    rest = WALL["job"] - sum(WALL[p] for p in listed)
    rows.append(("other", rest, CPU["job"] - sum(CPU[p] for p in listed)))
    for name, wall, cpu in rows:
        share = wall / WALL["job"] if WALL["job"] else 0.0
        print(f"{name:<11} {wall / jobs * 1000:>11.2f} {cpu / jobs * 1000:>11.2f} {share:>6.0%}")
    outside = WALL["job"] - WALL["model"]
    print(f"outside the model: {outside / jobs * 1000:.1f} ms per job; "
          f"submitting and running took {elapsed / jobs * 1000:.1f} ms per job")  # fmt: skip


if __name__ == "__main__":
    main()
