"""The torch engine on a CUDA GPU, in one call: correct first, then images/s by batch size.

Builds the issue's CycleGAN ResNet-9 (ngf 64, random weights), exports it to ONNX, and:

1. checks ``torch/cuda/fp32`` against ONNX Runtime fp32 on the CPU (256², two images)
   and reports the PSNR of fp16 and bf16 against it (the fidelity floor is 35 dB);
2. times 512² runs at batch sizes 1, 8, 16 and 32 in fp16 and bf16, each in NCHW and in
   channels-last (NHWC) order (synchronised wall clock around each run, median of
   ``--runs`` after two warm-ups) and prints images/s;
3. times 8 photos of 8 sizes within one 64-px bucket (463–512 × 399–448 at ``--size``
   512) through the model step's ``run_together`` in fp16 (fp32 in a CPU dry run): each
   size alone, then padded to the bucket and run as one batch (what a worker does when the
   model passes the bucket check), and prints both rates and the check's verdict for this
   model.

Needs torch with CUDA, onnx and onnxruntime (CPU), plus pixserve's ``src`` on the path and
pydantic-settings (the device machines have the rest; carry the few missing wheels).
Writes the table as JSON to ``$OUT/gpu_torch_engine.json`` when ``OUT`` is set.

    PYTHONPATH=src python benchmarks/gpu_torch_engine.py --runs 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from pixserve.inference.cache import psnr
from pixserve.inference.onnx import OnnxEngine
from pixserve.inference.spec import Device, EngineSpec, Precision, Runtime
from pixserve.inference.torch_onnx import TorchEngine
from pixserve.models.resnet_generator import ResnetGenerator, ResnetGeneratorConfig


def export(path: Path) -> None:
    torch.manual_seed(0)
    module = ResnetGenerator(ResnetGeneratorConfig(ngf=64, n_blocks=9)).eval()
    axes = {0: "batch", 2: "height", 3: "width"}
    with torch.no_grad():
        torch.onnx.export(
            module,
            (torch.zeros(1, 3, 64, 64),),
            str(path),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": axes, "output": axes},
            opset_version=17,
            dynamo=False,
        )


def mixed_sizes(
    path: Path, device: Device, *, size: int, runs: int, name: str
) -> list[dict[str, object]]:
    """images/s for photos of different sizes: one run per size, and one padded batch."""
    from pixserve.pipeline.model_spec import ModelSpec
    from pixserve.pipeline.steps import OnnxModelStep
    from pixserve.pipeline.steps.base import Frame

    precision = Precision.FP16 if device is Device.CUDA else Precision.FP32
    engine = TorchEngine(path, EngineSpec(Runtime.TORCH, device, precision))
    spec = ModelSpec(path=path, range="-1..1", size_multiple=4)
    exact = OnnxModelStep(engine, spec)
    rng = np.random.default_rng(2)
    frames = [
        Frame(rng.integers(0, 256, (size - 7 * k, size * 7 // 8 - 7 * k, 3), np.uint8), (1, 1))
        for k in range(8)
    ]
    verdict = exact.buckets
    exact.__dict__["buckets"] = False  # what a model that fails the check gets
    padded = OnnxModelStep(engine, spec)
    padded.__dict__["buckets"] = True
    rows = []
    for label, step in (("each size alone", exact), ("one padded batch", padded)):
        for _ in range(2):
            step.run_together(frames)
        seconds = []
        for _ in range(runs):
            if device is Device.CUDA:
                torch.cuda.synchronize()
            start = time.perf_counter()
            step.run_together(frames)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        print(f"{precision} 8 sizes, {label}: {len(frames) / median:8.1f} images/s")
        rows.append(
            {"precision": str(precision), "mixed_sizes": label, "images": len(frames),
             "images_per_s": len(frames) / median, "passes_bucket_check": verdict, "gpu": name}
        )  # fmt: skip
    print(f"the bucket check {'passes' if verdict else 'refuses'} this model")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batches", default="1,8,16,32")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                        help="cpu: a dry run of this script (fp32 and bf16 only)")  # fmt: skip
    args = parser.parse_args()
    device = Device(args.device)
    gpu = device is Device.CUDA
    name = torch.cuda.get_device_name() if gpu else "CPU (dry run)"
    print(f"{name}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet9.onnx"
        export(path)
        rng = np.random.default_rng(1)
        probe = rng.uniform(-1, 1, (2, 3, 256, 256)).astype(np.float32)
        reference = OnnxEngine(path).run(probe)
        rows: list[dict[str, object]] = []
        lower = (Precision.FP16, Precision.BF16) if gpu else (Precision.BF16,)
        variants = [(Precision.FP32, False)] + [(p, nhwc) for p in lower for nhwc in (False, True)]
        for precision, nhwc in variants:
            spec = EngineSpec(Runtime.TORCH, device, precision)
            engine = TorchEngine(path, spec, channels_last=nhwc)
            layout = "NHWC" if nhwc else "NCHW"
            quality = psnr(reference, engine.run(probe), 2.0)  # output range −1..1
            print(f"{precision} {layout}: {quality:.1f} dB against ONNX Runtime fp32 (CPU)")
            if precision is Precision.FP32:
                assert quality > 60, "fp32 on the GPU does not match ONNX Runtime"
                continue
            for n in (int(b) for b in args.batches.split(",")):
                x = rng.uniform(-1, 1, (n, 3, args.size, args.size)).astype(np.float32)
                for _ in range(2):
                    engine.run(x)
                seconds = []
                for _ in range(args.runs):
                    if gpu:
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                    engine.run(x)  # returns host memory: the copy back is included
                    seconds.append(time.perf_counter() - start)
                median = statistics.median(seconds)
                rows.append(
                    {"precision": str(precision), "layout": layout, "batch": n, "size": args.size,
                     "ms_per_run": median * 1e3, "images_per_s": n / median,
                     "psnr_db": quality, "gpu": name}
                )  # fmt: skip
                rate, ms = n / median, median * 1e3
                print(f"{precision} {layout} batch {n:>2}: {rate:8.1f} images/s ({ms:.1f} ms)")
        rows.extend(mixed_sizes(path, device, size=args.size, runs=args.runs, name=name))
    if "OUT" in os.environ:
        Path(os.environ["OUT"], "gpu_torch_engine.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
