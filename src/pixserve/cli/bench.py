"""``pixserve bench``: measure, never assume (figures for the CPU or GPU they ran on)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import click
import cv2
import numpy as np

from pixserve.cli.options import friendly_errors
from pixserve.core.errors import InvalidRequest
from pixserve.core.hardware import this_cpu
from pixserve.core.memory import map_large_blocks
from pixserve.core.settings import Settings, get_settings
from pixserve.imaging import sample_photo
from pixserve.inference import EngineCache
from pixserve.inference.bench import MATMUL_N, Report, Row, bench_model
from pixserve.inference.cache import Decision, EnginePolicy
from pixserve.inference.rows import BoundedEngine
from pixserve.inference.spec import BASELINE, EngineSpec
from pixserve.pipeline import Catalog, ModelSpec, Style, load_bundle
from pixserve.pipeline.engine_choice import model_engine
from pixserve.pipeline.tensor import to_tensor
from pixserve.pipeline.upscalers import get_upscaler, model_spec


@click.group()
def bench() -> None:
    """Benchmarks that print figures with the machine they were measured on."""


@bench.command("train")
@click.argument("arch", type=click.Choice(["pix2pix", "cyclegan", "fast-style"]))
@click.option("--size", type=click.IntRange(32), default=256, show_default=True)
@click.option("--images", type=click.IntRange(1), default=1000, show_default=True,
              help="Training-set size the s/epoch figure is for.")  # fmt: skip
@click.option("--steps", type=click.IntRange(1), default=5, show_default=True)
@click.option("--warmup", type=click.IntRange(0), default=1, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=None)
@click.option(
    "--precision",
    "precisions",
    multiple=True,
    type=click.Choice(["fp32", "bf16"]),
    help="Repeat to choose (default: fp32, and bf16 where it is native).",
)
@click.option("--device", default="auto", show_default=True)
@friendly_errors
def train(
    arch: str,
    size: int,
    images: int,
    steps: int,
    warmup: int,
    batch_size: int | None,
    precisions: tuple[str, ...],
    device: str,
) -> None:
    """Iterations/s and s/epoch of ARCH's training step at --size, per precision."""
    try:
        from pixserve.training.bench import bench_train, machine
    except ImportError as exc:
        raise InvalidRequest(
            f"training needs torch: pip install 'pixserve[train]' ({exc})"
        ) from exc
    click.echo(f"{arch} training step at {size}×{size} on {machine()}")
    results = bench_train(
        arch,
        size=size,
        steps=steps,
        warmup=warmup,
        batch_size=batch_size,
        precisions=precisions,
        device=device,
        echo=click.echo,
    )
    click.echo(f"\n{'precision':<10} {'it/s':>8} {'s/it':>8} {'s/epoch':>10}  ({images} images)")
    for r in results:
        click.echo(
            f"{r.precision:<10} {r.steps_per_second:>8.3g} {r.seconds_per_step:>8.3g} "
            f"{r.seconds_per_epoch(images):>10.0f}"
        )
    if len(results) > 1:
        base = results[0].seconds_per_step
        for r in results[1:]:
            click.echo(f"{r.precision} is {base / r.seconds_per_step:.2f}× {results[0].precision}")


def _engine_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value != "auto":
        try:
            EngineSpec.parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


@bench.command("model")
@click.argument("style")
@click.option("--size", type=click.IntRange(16), default=512, show_default=True,
              help="Side of the square input (the sample photo, resized).")  # fmt: skip
@click.option("--engine", default=None, callback=_engine_option,
              help="auto, onnxruntime, openvino, torch, or a spec like openvino/cpu/bf16 "
              "(default: PIXSERVE_ENGINE, then the style's own).")  # fmt: skip
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16", "int8"]),
              default=None,
              help="Default: PIXSERVE_PRECISION, then the style's own.")  # fmt: skip
@click.option("--batch", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Images per run, as a worker batches jobs (PIXSERVE_BATCH_SIZE).")  # fmt: skip
@click.option("--compare", is_flag=True, help="Measure ONNX Runtime fp32 beside it.")
@click.option("--runs", type=click.IntRange(1), default=10, show_default=True)
@click.option("--warmup", type=click.IntRange(0), default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def model(
    style: str,
    size: int,
    engine: str | None,
    precision: str | None,
    batch: int,
    compare: bool,
    runs: int,
    warmup: int,
    as_json: bool,
) -> None:
    """Images/s, latency, GFLOP/s and PSNR against fp32 of STYLE's model at --size.

    STYLE is an installed style of kind onnx or upscaler, or a style bundle folder. The
    engine is decided as serving decides it (policy, fidelity floor); an explicit
    --engine or --precision replaces the style's own choice. The model runs on the whole
    input in one piece (no tiles, unlike an upscaler's pipeline), without post steps.
    """
    settings = get_settings()
    found = find_style(style, settings)
    spec = style_model_spec(found, settings.data_dir / "models")
    if engine is not None:
        spec = spec.model_copy(update={"engine": None})
    if precision is not None:
        spec = spec.model_copy(update={"precision": None})
    policy = EnginePolicy(
        engine or settings.engine,
        precision or settings.precision,
        min_psnr=settings.min_psnr,
        threads=settings.engine_threads,
        cache_dir=settings.data_dir / "engines",
        run_memory_mb=settings.run_memory_mb or None,
    )
    map_large_blocks()  # as a server: a large photo's arrays go back to the OS when freed
    cache = EngineCache(policy=policy)
    chosen, decision = model_engine(cache, spec)
    if batch > 1 and not chosen.accepts_batches:
        raise InvalidRequest(f"the model of {found.name!r} fixes its batch size at one")
    images = np.repeat(bench_input(spec, size), batch, axis=0)
    in_rows = isinstance(chosen, BoundedEngine) and chosen.rows_for(images.shape) is not None
    report = bench_model(
        cache,
        spec.path,
        (chosen, decision.spec),
        images,
        span=spec.range.span,
        compare=compare,
        runs=runs,
        warmup=warmup,
    )
    if as_json:
        out = _as_json(found.name, size, images, decision, report, compare)
        click.echo(json.dumps({**out, "in_rows": in_rows}))
        return
    _print_report(found.name, size, images, decision, report)
    if in_rows:
        click.echo(
            f"\nat this size the fp32 engines run the model in bands of rows, within "
            f"PIXSERVE_RUN_MEMORY_MB={settings.run_memory_mb} (as serving does); "
            "PIXSERVE_RUN_MEMORY_MB=0 times the whole-image engines"
        )


def find_style(text: str, settings: Settings) -> Style:
    """A bundle folder when ``text`` is one (or looks like a path), else an installed style."""
    if os.sep in text or Path(text).is_dir():
        return load_bundle(text)
    return Catalog.load(settings.style_dirs).get(text)


def style_model_spec(style: Style, model_dir: Path) -> ModelSpec:
    """The ONNX model ``style`` runs, as its pipeline runs it; ``InvalidRequest`` for a
    style without one (built-in operators, neural-style)."""
    if style.model is not None:
        return style.model
    if style.upscaler is not None:  # as upscale_model_step decides its engine
        return model_spec(get_upscaler(style.upscaler.model), model_dir)
    raise InvalidRequest(
        f"style {style.name!r} is of kind {style.kind.value!r}: only styles with an ONNX "
        "model (kind onnx or upscaler) can be benchmarked"
    )


def bench_input(spec: ModelSpec, size: int) -> np.ndarray:
    """The sample photo at ``size``×``size``, as a batch in the model's convention."""
    photo = cv2.resize(sample_photo(), (size, size), interpolation=cv2.INTER_CUBIC)
    return to_tensor(photo, spec)


def _print_report(
    style: str, size: int, batch: np.ndarray, decision: Decision, report: Report
) -> None:
    click.echo(f"{style} at {size}×{size} on {this_cpu().describe()}")
    checked = "" if decision.psnr is None else f" ({_db(decision.psnr)} against fp32 on probes)"
    click.echo(f"engine {decision.spec}{checked}: {decision.reason}")
    for note in decision.refused:
        click.echo(f"  refused {note}")
    flops = report.rows[0].flops
    shape = "×".join(str(d) for d in batch.shape)
    work = "unknown (shapes not inferred)" if flops is None else f"{flops / 1e9:.3g} GFLOP"
    click.echo(
        f"model: {work} per run at {shape}; fp32 matmul ({MATMUL_N}²): "
        f"{report.matmul_gflops:.0f} GFLOP/s\n"
    )
    _print_table(report.rows)
    if report.same_engine:
        click.echo(f"\nthe chosen engine is {BASELINE} itself: the comparison is the same engine")
    elif report.speedup is not None:
        chosen = report.rows[-1]
        click.echo(f"\n{chosen.spec} is {report.speedup:.1f}× {BASELINE} at {_db(chosen.psnr)}")


def _print_table(rows: tuple[Row, ...]) -> None:
    header = ("engine", "precision", "img/s", "p50 ms", "p99 ms", "GFLOP/s", "% of matmul",
              "PSNR dB", "peak RSS MB")  # fmt: skip
    cells = [header, *(_cells(row) for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        left = [c.ljust(w) for c, w in zip(r[:2], widths, strict=False)]
        right = [c.rjust(w) for c, w in zip(r[2:], widths[2:], strict=True)]
        click.echo("  ".join(left + right))


def _cells(row: Row) -> tuple[str, ...]:
    gflops, share = row.gflops, row.matmul_percent
    return (
        f"{row.spec.runtime}/{row.spec.device}",
        str(row.spec.precision),
        _figure(row.images_per_second),
        _figure(row.p50_ms),
        _figure(row.p99_ms),
        "?" if gflops is None else _figure(gflops),
        "?" if share is None else f"{share:.0f}%",
        "exact" if math.isinf(row.psnr) else f"{row.psnr:.1f}",
        f"{row.peak_rss_mb:.0f}",
    )


def _figure(x: float) -> str:
    """Three significant digits, never in exponent form (12.3, 0.412, 2705)."""
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


def _db(psnr: float) -> str:
    return "exact (identical output)" if math.isinf(psnr) else f"{psnr:.1f} dB"


def _as_json(
    style: str, size: int, batch: np.ndarray, decision: Decision, report: Report, compare: bool
) -> dict[str, object]:
    checked = decision.as_dict()
    if decision.psnr is not None and math.isinf(decision.psnr):
        checked["psnr_db"] = None  # identical on the probes; JSON has no infinity
    out: dict[str, object] = {
        "machine": this_cpu().describe(),
        "style": style,
        "size": size,
        "input_shape": list(batch.shape),
        "flops": report.rows[0].flops,
        "matmul_gflops": report.matmul_gflops,
        "decision": {"spec": str(decision.spec), **checked},
        "rows": [row.as_dict() for row in report.rows],
    }
    if compare:
        out["same_engine"] = report.same_engine
        out["ratio"] = _ratio(report)
    return out


def _ratio(report: Report) -> dict[str, object] | None:
    if report.speedup is None:
        return None
    chosen = report.rows[-1].as_dict()
    return {
        "engine": str(report.rows[-1].spec),
        "baseline": str(BASELINE),
        "speedup": report.speedup,
        "psnr_db": chosen["psnr_db"],
        "exact": chosen["exact"],
    }


@bench.command("e2e")
@click.option("--style", required=True, help="An installed style.")
@click.option("--images", type=click.IntRange(1), default=50, show_default=True)
@click.option("--clients", type=click.IntRange(1), default=4, show_default=True)
@click.option("--size", type=click.IntRange(16), default=512, show_default=True)
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def e2e(style: str, images: int, clients: int, size: int, workers: int, as_json: bool) -> None:
    """Jobs/s through a real `pixserve serve` against the model alone, in one run."""
    from pixserve.cli import bench_system

    result = bench_system.e2e(style, images=images, clients=clients, size=size, workers=workers)
    if as_json:
        click.echo(json.dumps(result | {"machine": this_cpu().describe()}))
        return
    click.echo(f"{style} at {size}×{size}, {images} jobs from {clients} clients, {workers} "
               f"worker(s), on {this_cpu().describe()}")  # fmt: skip
    click.echo(f"end to end   {result['e2e_images_per_s']:.3g} images/s")
    click.echo(
        f"model alone  {result['model_images_per_s']:.3g} images/s ({result['engine']}; "
        f"{result['model_ms_before']:.0f} ms per image before the run, "
        f"{result['model_ms_after']:.0f} ms after)"
    )
    click.echo(f"end to end is {result['ratio']:.0%} of the model alone")
    if result["worker_ms_per_job"] is not None:
        click.echo(
            f"the worker held each job {result['worker_ms_per_job']:.0f} ms from claim to stored "
            f"result (the model alone: {result['model_ms_per_image']:.0f} ms)"
        )
    ceiling = result["ratio_ceiling"]
    click.echo(
        f"CPU per job: server {result['server_cpu_ms_per_job']:.0f} ms, clients "
        f"{result['client_cpu_ms_per_job']:.0f} ms; the model alone "
        f"{result['model_cpu_ms_per_image']:.0f} ms per image"
        + (f": with all {result['cores']} cores busy, at most {ceiling:.0%}" if ceiling else "")
    )
    click.echo(
        f"status calls during the run: p50 {result['status_p50_ms']:.1f} ms, "
        f"p99 {result['status_p99_ms']:.1f} ms"
    )


@bench.command("coldstart")
@click.option("--style", required=True, help="The style of the first job.")
@click.option("--size", type=click.IntRange(16), default=512, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def coldstart(style: str, size: int, as_json: bool) -> None:
    """Seconds to /readyz and to a first result: empty data dir, then a restart."""
    from pixserve.cli import bench_system

    rows = bench_system.coldstart(style, size=size)
    if as_json:
        click.echo(json.dumps({"machine": this_cpu().describe(), "style": style, "rows": rows}))
        return
    click.echo(f"pixserve serve, first job {style} at {size}², on {this_cpu().describe()}")
    click.echo(f"{'start':<16} {'ready s':>8} {'first result s':>15}")
    for row in rows:
        click.echo(f"{row['start']:<16} {row['ready_s']:>8.2f} {row['first_result_s']:>15.2f}")


@bench.command("memory")
@click.option("--style", required=True, help="An installed style.")
@click.option("--images", type=click.IntRange(1), default=200, show_default=True)
@click.option("--min-side", type=click.IntRange(16), default=512, show_default=True)
@click.option("--max-side", type=click.IntRange(16), default=2048, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def memory(style: str, images: int, min_side: int, max_side: int, as_json: bool) -> None:
    """RSS of web + worker while it serves photos of mixed sizes."""
    from pixserve.cli import bench_system

    result = bench_system.memory(style, images=images, low=min_side, high=max_side)
    if as_json:
        click.echo(json.dumps(result | {"machine": this_cpu().describe()}))
        return
    click.echo(f"{style}, {images} photos of {min_side}–{max_side} px, on {this_cpu().describe()}")
    click.echo("  ".join(f"{i}:{mb:.0f}" for i, mb in result["readings"]) + "  (jobs:MB)")
    click.echo(
        f"between jobs: peak {result['peak_mb']:.0f} MB; after 50 jobs "
        f"{result['after_50_mb']:.0f} MB, at the end {result['last_mb']:.0f} MB: "
        f"{'flat' if result['flat'] else 'growing'}; "
        f"high-water mark while serving {result['high_water_mb']:.0f} MB "
        f"(a restarted server; the first start was {result['first_start_mb']:.0f} MB at ready)"
    )
    anon = result["anon_readings"]
    click.echo(
        f"of which anonymous (the process's own; the rest is file pages, which vary with the "
        f"page cache): {anon[0][1]:.0f} MB at ready, {anon[-1][1]:.0f} MB at "
        f"the end; peak {result['anon_peak_mb']:.0f} MB (sampled every 20 ms)"
    )
    click.echo(
        f"idle, {result['idle_after_s']:.0f} s after the last job (engines give their "
        f"activations back): {result['idle_mb']:.0f} MB, anonymous {result['idle_anon_mb']:.0f} MB"
    )
