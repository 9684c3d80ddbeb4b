"""A full-size U-GAT-IT import: its time, its peak memory, and the imported style's speed.

    .venv/bin/python benchmarks/ugatit_import.py --make-pytorch /tmp/ugatit.pt   # no TF needed
    .venv/bin/python benchmarks/ugatit_import.py /tmp/ugatit.pt
    .venv/bin/python benchmarks/ugatit_import.py /tmp/ugatit-full/full-size      # a TF folder

A TensorFlow checkpoint of the published shapes (img_size 256, ch 64, n_res 4, full: the
MLP's first dense layer alone is 268 M parameters, 1.07 GB) is written by TensorFlow with
``tests/fixtures/ugatit_tf/make_fixture.py --full-size DIR``; ``--make-pytorch FILE``
writes a UGATIT-pytorch params file of the same shapes (random weights) without it.

The import runs as ``pixserve import ugatit`` in a child process; its wall time and peak
RSS (``ru_maxrss`` of the child) are printed. Then the imported style's ONNX model runs
``--runs`` times on a 256² input through ONNX Runtime (as a worker runs it) and the median
and p90 per-image times are printed, with the machine's CPU and its flags. When the TF
folder holds ``input.npy`` / ``expected-smoothing.npy`` (written by the fixture recipe),
the ONNX output is also compared with TensorFlow's.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_pytorch(path: Path) -> None:
    import torch

    from pixserve.models import ugatit

    cfg = ugatit.UgatitConfig(ngf=64, n_blocks=4, img_size=256, light=False)
    gen = torch.Generator().manual_seed(0)
    state = {}
    for key, value in ugatit.UgatitGenerator(cfg).state_dict().items():
        fan_in = max(1, value[0].numel()) if value.ndim > 1 else 1
        state[key] = torch.randn(value.shape, generator=gen) / fan_in**0.5
        if key.endswith("rho"):
            state[key] = torch.rand(value.shape, generator=gen)
    torch.save({"genA2B": state, "genB2A": state}, path)
    print(f"wrote {path} ({path.stat().st_size / 1e9:.2f} GB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path, nargs="?")
    parser.add_argument("--make-pytorch", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if args.make_pytorch:
        make_pytorch(args.make_pytorch)
        return
    if args.checkpoint is None:
        parser.error("give a checkpoint (or --make-pytorch FILE)")
    from pixserve.core.hardware import this_cpu

    print(this_cpu().describe())
    with tempfile.TemporaryDirectory() as tmp:
        styles = Path(tmp)
        pixserve = Path(sys.executable).with_name("pixserve")
        cmd = [str(pixserve), "import", "ugatit", str(args.checkpoint), "--name", "bench"]
        start = time.perf_counter()
        done = subprocess.run([*cmd, "--styles-dir", str(styles)], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode:
            sys.exit(done.stdout + done.stderr)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB → GiB
        print(done.stdout.strip())
        print(f"import: {seconds:.1f} s, peak RSS {peak:.2f} GiB")
        model = styles / "bench" / "model.onnx"
        print(f"model.onnx: {model.stat().st_size / 1e9:.2f} GB")
        run_style(model, args.checkpoint, args.runs)


def run_style(model: Path, checkpoint: Path, runs: int) -> None:
    from pixserve.inference import OnnxEngine

    engine = OnnxEngine(model)
    folder = checkpoint if checkpoint.is_dir() else checkpoint.parent
    reference = folder / "expected-smoothing.npy"
    if (folder / "input.npy").is_file() and reference.is_file():
        x = np.load(folder / "input.npy").transpose(0, 3, 1, 2).copy()
        got = engine.run(x).transpose(0, 2, 3, 1)
        print(f"max |ONNX − TensorFlow| at 256²: {np.max(np.abs(got - np.load(reference))):.2e}")
    else:
        x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 256, 256)).astype(np.float32)
    engine.run(x)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        engine.run(x)
        times.append(time.perf_counter() - start)
    p50, p90 = np.percentile(times, [50, 90])
    print(f"style at 256², ONNX Runtime fp32: p50 {p50 * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms")


if __name__ == "__main__":
    main()
