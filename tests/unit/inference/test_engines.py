"""Engines per machine: the choice from CPU flags, OpenVINO against ONNX Runtime, and the
fidelity floor that refuses a variant too far from fp32.

The flag sets are those of the machines this project runs on: an AVX2-only AMD EPYC, an
Intel Sapphire Rapids with AMX, an AMD Zen 4 (AVX512-BF16, no AMX), an Intel Xeon whose AMX
the hypervisor hides (AVX512-BF16 and -FP16, where bf16 was slower than fp32). The choice is
tested with each; OpenVINO and int8 really run here, whatever this machine is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest

from pixserve.core.errors import BundleError
from pixserve.core.hardware import Cpu
from pixserve.inference import cache as cache_module
from pixserve.inference import engines, openvino
from pixserve.inference.cache import EngineCache, EnginePolicy
from pixserve.inference.onnx import OnnxEngine
from pixserve.inference.openvino import OpenVinoEngine
from pixserve.inference.spec import Device, EngineSpec, Precision, Runtime
from tests.support.models import conv_chain_model

EPYC = Cpu("AMD EPYC 7B13", frozenset({"avx2", "fma"}), 2)
SAPPHIRE_RAPIDS = Cpu(
    "Intel Xeon Platinum 8481C",
    frozenset({"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8"}),
    2,
)
ZEN4 = Cpu("AMD EPYC 9B14", frozenset({"avx2", "avx512f", "avx512_bf16", "avx512_vnni"}), 2)
HIDDEN_AMX = Cpu(
    "Intel(R) Xeon(R) Processor",
    frozenset({"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx512_fp16"}),
    2,
)
OPENVINO_FP32 = EngineSpec(Runtime.OPENVINO)
OPENVINO_BF16 = OPENVINO_FP32.with_precision(Precision.BF16)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "m.onnx"
    onnx.save(conv_chain_model(layers=4, width=8), path)
    return path


def probes() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, (1, 3, 40, 56)).astype(np.float32) for _ in range(2)]


def test_spec_round_trips_and_parses_short_forms() -> None:
    assert str(OPENVINO_BF16) == "openvino/cpu/bf16"
    assert EngineSpec.parse("openvino/cpu/bf16") == OPENVINO_BF16
    assert EngineSpec.parse("onnxruntime") == EngineSpec()
    with pytest.raises(ValueError, match="tensorrt"):
        EngineSpec.parse("tensorrt")


@pytest.mark.parametrize(
    ("cpu", "expected", "undecided"),
    [
        (EPYC, EngineSpec(Runtime.OPENVINO), ()),
        (SAPPHIRE_RAPIDS, OPENVINO_BF16, ()),
        (ZEN4, OPENVINO_FP32, (OPENVINO_FP32, OPENVINO_BF16)),
        (HIDDEN_AMX, OPENVINO_FP32, (OPENVINO_FP32, OPENVINO_BF16)),
    ],
)
def test_choice_follows_the_flags(
    cpu: Cpu, expected: EngineSpec, undecided: tuple[EngineSpec, ...]
) -> None:
    choice = engines.choose(cpu, cuda=False, openvino=True)
    assert choice.spec == expected
    assert choice.undecided == undecided


def test_a_gpu_comes_first_and_no_openvino_means_fp32() -> None:
    assert engines.choose(EPYC, cuda=True, openvino=True).spec.device is Device.CUDA
    choice = engines.choose(SAPPHIRE_RAPIDS, cuda=False, openvino=False)
    assert choice.spec == EngineSpec() and "not installed" in choice.reason
    assert engines.choose(EPYC, cuda=False, openvino=False).spec == EngineSpec()


def test_bf16_without_bf16_hardware_is_not_supported() -> None:
    assert "emulated" in (engines.supported(OPENVINO_BF16, EPYC) or "")
    assert engines.supported(OPENVINO_BF16, SAPPHIRE_RAPIDS) is None
    assert engines.supported(EngineSpec(precision=Precision.BF16), SAPPHIRE_RAPIDS)


def test_openvino_matches_onnx_runtime_at_fp32(model: Path) -> None:
    ov = OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO), cache_dir=model.parent / "blobs")
    ort = OnnxEngine(model)
    for batch in [*probes(), np.zeros((1, 3, 33, 17), np.float32)]:  # each shape compiled
        np.testing.assert_allclose(ov.run(batch), ort.run(batch), atol=1e-4)
    assert ov.name == "openvino/cpu/fp32"


def test_engines_say_whether_the_model_takes_batches(model: Path, tmp_path: Path) -> None:
    free = tmp_path / "free.onnx"
    onnx.save(conv_chain_model(layers=4, width=8, batch="n"), free)
    for path, batches in ((model, False), (free, True)):  # conv_chain_model fixes N at 1
        ov = OpenVinoEngine(path, EngineSpec(Runtime.OPENVINO))
        ort = OnnxEngine(path)
        assert (ov.accepts_batches, ort.accepts_batches) == (batches, batches)
    three = np.concatenate([*probes(), probes()[0]])
    out = OnnxEngine(free).run(three)
    np.testing.assert_allclose(out[1:2], OnnxEngine(free).run(probes()[1]), atol=1e-5)
    np.testing.assert_allclose(
        OpenVinoEngine(free, EngineSpec(Runtime.OPENVINO)).run(three), out, atol=1e-4
    )


class _ReleaseSpy:
    """Stands in for an engine's compiled model, noting each ``release_memory`` in
    ``released`` (the time, or ``tag`` when given)."""

    def __init__(self, engine: OpenVinoEngine, released: list[object], tag: object = None):
        self._compiled, self._released, self._tag = engine._compiled, released, tag
        engine._compiled = self

    def __getattr__(self, name: str) -> object:
        return getattr(self._compiled, name)

    def release_memory(self) -> None:
        self._released.append(time.monotonic() if self._tag is None else self._tag)
        self._compiled.release_memory()


def test_openvino_gives_activation_memory_back_once_idle(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Otherwise it keeps the largest photo's activations (~360 MB, ResNet-9 at 1024²); after
    # every run, though, the next one paid 6–9 % to fault fresh pages in.
    monkeypatch.setattr(openvino, "RELEASE_AFTER_IDLE_S", 0.5)
    ov = OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO))
    released: list[object] = []
    _ReleaseSpy(ov, released)
    first = ov.run(probes()[0])
    for _ in range(4):  # a busy worker: runs closer together than the idle time
        time.sleep(0.02)
        np.testing.assert_array_equal(ov.run(probes()[0]), first)
    last = time.monotonic()
    assert released == []
    deadline = last + 10
    while not released and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(released) == 1 and float(released[0]) - last >= 0.45  # type: ignore[arg-type]
    np.testing.assert_array_equal(ov.run(probes()[0]), first)  # reallocated, same answer


def test_a_run_of_another_engine_releases_an_idle_ones_activations(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker serving many styles holds the largest style's activations, not their sum.
    monkeypatch.setattr(openvino, "RELEASE_AFTER_IDLE_S", 60.0)
    first, second = (OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO)) for _ in range(2))
    released: list[object] = []
    _ReleaseSpy(first, released, "first")
    _ReleaseSpy(second, released, "second")
    first.run(probes()[0])
    first.run(probes()[0])  # its own next run keeps them
    assert released == []
    second.run(probes()[0])
    assert released == ["first"]
    first.run(probes()[0])
    assert released == ["first", "second"]


def test_no_release_is_left_pending_at_exit(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A timer firing while the interpreter tears OpenVINO down could call into freed code.
    monkeypatch.setattr(openvino, "RELEASE_AFTER_IDLE_S", 0.3)
    monkeypatch.setattr(openvino, "_exiting", threading.Event())  # for this test only
    ov = OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO))
    released: list[object] = []
    _ReleaseSpy(ov, released)
    ov.run(probes()[0])
    openvino._no_release_at_exit()
    assert openvino._exiting.is_set()  # a timer already under way loads no model
    time.sleep(0.6)
    assert released == []


def test_an_idle_engine_with_a_blob_cache_is_loaded_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # release_memory() leaves part of the peak behind, freed only with the compiled model
    # (95 MB of a ResNet-9's after a 1024×768 photo, bf16 on AMX): loading the blob again
    # gives it back.
    monkeypatch.setattr(openvino, "RELEASE_AFTER_IDLE_S", 60.0)  # the test fires it
    path = tmp_path / "model.onnx"
    onnx.save(conv_chain_model(layers=4, width=16), path)
    engine = OpenVinoEngine(path, EngineSpec(Runtime.OPENVINO), cache_dir=tmp_path / "blobs")
    first = engine.run(probes()[0])
    loaded = engine._compiled
    engine._release_if_idle()  # another engine's run: a release only, at once
    engine._release_if_idle(engine._runs - 1)  # a timer set before the last run: nothing
    assert engine._compiled is loaded
    engine._release_if_idle(engine._runs)  # the timer of the last run
    assert engine._compiled is not loaded
    np.testing.assert_array_equal(engine.run(probes()[0]), first)

    reload = engine._compile

    def a_run_begins_meanwhile() -> object:
        fresh = reload()
        engine.run(probes()[0])
        return fresh

    kept = engine._compiled
    monkeypatch.setattr(engine, "_compile", a_run_begins_meanwhile)
    engine._release_if_idle(engine._runs)
    assert engine._compiled is kept  # the run made it busy again: no swap


def test_an_engine_nobody_holds_is_freed_at_once_not_kept_for_its_timer(model: Path) -> None:
    # A probe that lost to another engine is dropped: its timer must not keep it (and its
    # activations) for 2 s, then load it again.
    import gc
    import weakref

    engine = OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO))
    engine.run(probes()[0])
    assert engine._release is not None and engine._release.is_alive()
    gone = weakref.ref(engine)
    del engine
    gc.collect()
    assert gone() is None


def test_an_engine_without_a_blob_cache_is_only_released(model: Path) -> None:
    engine = OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO))  # compiling again is slow
    engine.run(probes()[0])
    loaded = engine._compiled
    engine._release_if_idle(engine._runs)
    assert engine._compiled is loaded


def test_an_engine_released_by_another_leaves_no_timer_at_exit(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another engine's run releases this one at once, but its own timer stays pending (it
    # reloads the model later): the exit hook must cancel that one too.
    monkeypatch.setattr(openvino, "RELEASE_AFTER_IDLE_S", 0.3)
    monkeypatch.setattr(openvino, "_exiting", threading.Event())
    first, second = (OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO)) for _ in range(2))
    released: list[object] = []
    _ReleaseSpy(first, released, "first")
    first.run(probes()[0])
    second.run(probes()[0])
    assert released == ["first"]
    openvino._no_release_at_exit()
    assert first._release is None and second._release is None
    time.sleep(0.6)
    assert released == ["first"]


def test_a_bf16_engine_caches_its_weights_as_fp16(tmp_path: Path) -> None:
    # bf16 rounds the weights further than fp16 anyway; the blob, mapped into memory while
    # the model serves, halves. An fp32 engine keeps its weights exactly.
    path = tmp_path / "wide.onnx"
    onnx.save(conv_chain_model(layers=4, width=64), path)
    batch = probes()[0]
    blob_bytes, outputs = {}, {}
    for spec in (EngineSpec(Runtime.OPENVINO), OPENVINO_BF16):
        blobs = tmp_path / str(spec).replace("/", "-")
        outputs[spec.precision] = OpenVinoEngine(path, spec, cache_dir=blobs).run(batch)
        blob_bytes[spec.precision] = sum(f.stat().st_size for f in blobs.rglob("*.blob"))
    weight_bytes = 4 * sum(64 * c * 9 for c in (3, 64, 64)) + 4 * 3 * 64 * 9
    assert blob_bytes[Precision.FP32] - blob_bytes[Precision.BF16] > 0.45 * weight_bytes
    np.testing.assert_allclose(outputs[Precision.FP32], OnnxEngine(path).run(batch), atol=1e-4)
    span = float(np.ptp(outputs[Precision.FP32]))
    mse = float(np.mean((outputs[Precision.BF16] - outputs[Precision.FP32]) ** 2))
    assert 10 * np.log10(span**2 / mse) > 35  # the fidelity floor


@pytest.mark.parametrize("spec", [EngineSpec(Runtime.OPENVINO), OPENVINO_BF16])
def test_a_restarted_openvino_engine_loads_its_blob_without_parsing_the_model(
    spec: EngineSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsing a ResNet-9's ONNX file took 0.12 s of a restart's 0.17 s per model, and held
    # its weights while the blob loaded.
    path = tmp_path / "model.onnx"
    onnx.save(conv_chain_model(layers=4, width=16), path)
    blobs = tmp_path / "blobs"
    first = OpenVinoEngine(path, spec, cache_dir=blobs).run(probes()[0])
    import openvino as ov

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was parsed again")

    monkeypatch.setattr(ov.Core, "read_model", no_parsing)
    again = OpenVinoEngine(path, spec, cache_dir=blobs)
    np.testing.assert_array_equal(again.run(probes()[0]), first)
    assert not again.accepts_batches  # read from the compiled model's input


def _retrain(path: Path) -> None:
    """Replace the model at ``path`` with other weights, in a file of the same size."""
    retrained = onnx.load(path)
    for init in retrained.graph.initializer:
        halved = onnx.numpy_helper.to_array(init) * 0.5
        init.CopyFrom(onnx.numpy_helper.from_array(halved.astype(np.float32), init.name))
    onnx.save(retrained, path)


@pytest.mark.parametrize("spec", [EngineSpec(Runtime.OPENVINO), OPENVINO_BF16])
def test_a_model_replaced_at_its_path_runs_its_new_weights_not_its_old_blob(
    spec: EngineSpec, tmp_path: Path
) -> None:
    # OpenVINO finds a blob by the file's path alone: a retrained model copied over the old
    # one ran the old weights after a restart.
    path, blobs = tmp_path / "model.onnx", tmp_path / "blobs"
    onnx.save(conv_chain_model(layers=2, width=8), path)
    old = OpenVinoEngine(path, spec, cache_dir=blobs).run(probes()[0])
    _retrain(path)
    new = OpenVinoEngine(path, spec, cache_dir=blobs).run(probes()[0])
    np.testing.assert_allclose(new, OpenVinoEngine(path, spec).run(probes()[0]), atol=1e-2)
    assert not np.allclose(new, old, atol=1e-2)
    versions = [d for d in blobs.glob("*/*") if d.is_dir()]
    assert len(versions) == 2  # the old one stays a while: another process may still use it


def test_blobs_of_replaced_models_are_removed_once_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, blobs = tmp_path / "model.onnx", tmp_path / "blobs"
    onnx.save(conv_chain_model(layers=2, width=8), path)
    OpenVinoEngine(path, OPENVINO_BF16, cache_dir=blobs)
    (blobs / "1234.blob").write_bytes(b"left at the root by an earlier pixserve")
    _retrain(path)
    monkeypatch.setattr(openvino, "STALE_AFTER_S", 0.0)
    engine = OpenVinoEngine(path, OPENVINO_BF16, cache_dir=blobs)
    (version,) = [d for d in blobs.glob("*/*") if d.is_dir()]
    assert engine._cache_dir == version and list(version.iterdir())  # its IR and blob
    assert [f for f in blobs.rglob("*") if f.is_file() and version not in f.parents] == []


def test_a_version_folder_in_use_is_kept_however_old(tmp_path: Path) -> None:
    # A process that has served a model for hours, then loads it again after an idle
    # spell, marks its folder used: another version made meanwhile must not remove it.
    path, blobs = tmp_path / "model.onnx", tmp_path / "blobs"
    onnx.save(conv_chain_model(layers=2, width=8), path)
    engine = OpenVinoEngine(path, EngineSpec(Runtime.OPENVINO), cache_dir=blobs)
    engine.run(probes()[0])
    hours_ago = time.time() - 3 * openvino.STALE_AFTER_S
    os.utime(engine._cache_dir, (hours_ago, hours_ago))
    engine._release_if_idle(engine._runs)  # the idle timer: loads the blob again
    assert engine._cache_dir.stat().st_mtime > hours_ago
    _retrain(path)
    OpenVinoEngine(path, EngineSpec(Runtime.OPENVINO), cache_dir=blobs)  # a new version
    assert engine._cache_dir.is_dir()


def test_a_file_openvino_cannot_read_is_a_bundle_error(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not a model")
    for spec in (EngineSpec(Runtime.OPENVINO), OPENVINO_BF16):
        with pytest.raises(BundleError, match="OpenVINO cannot read it"):
            OpenVinoEngine(path, spec, cache_dir=tmp_path / "blobs")
    assert not list((tmp_path / "blobs").rglob("*.xml"))  # nothing half-written


def test_openvino_runs_concurrent_calls_each_on_its_own_request(model: Path) -> None:
    engine = OpenVinoEngine(model, EngineSpec(Runtime.OPENVINO))
    batches = [np.full((1, 3, 24 + 8 * i, 32), i / 8, np.float32) for i in range(8)]
    expected = [engine.run(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(engine.run, batches))
            for out, want in zip(got, expected, strict=True):
                np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize(("given", "expected"), [(None, "16"), ("256", "256")])
def test_onednn_keeps_few_kernels_unless_the_operator_says(
    given: str | None, expected: str
) -> None:
    # oneDNN's default (1024 kernels, kept process-wide) grew a ResNet-9 server by ~0.8 MB
    # per new photo size. It is read once, when OpenVINO loads: pixserve must set it first.
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    if given is not None:
        env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = given
    code = "import os, pixserve.inference; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


def use_cpu(monkeypatch: pytest.MonkeyPatch, cpu: Cpu) -> None:
    monkeypatch.setattr(cache_module, "this_cpu", lambda: cpu)


@pytest.mark.parametrize(
    ("cpu", "runtime", "precision"),
    [
        (EPYC, Runtime.OPENVINO, Precision.FP32),
        (SAPPHIRE_RAPIDS, Runtime.OPENVINO, Precision.BF16),
    ],
)
def test_auto_resolves_per_machine(
    monkeypatch: pytest.MonkeyPatch, model: Path, cpu: Cpu, runtime: Runtime, precision: Precision
) -> None:
    use_cpu(monkeypatch, cpu)
    monkeypatch.setattr(engines, "cuda_available", lambda: False)
    cache = EngineCache(policy=EnginePolicy("auto", "auto"))
    engine, decision = cache.resolve(model, probes, 2.0)
    assert (decision.spec.runtime, decision.spec.precision) == (runtime, precision)
    if precision is Precision.BF16:
        assert decision.psnr is not None and decision.psnr >= 35
    assert cache.resolve(model, probes, 2.0)[0] is engine  # decided once
    assert cache.decisions()[model.resolve()] == decision


def test_undecided_flags_time_both_engines(monkeypatch: pytest.MonkeyPatch, model: Path) -> None:
    use_cpu(monkeypatch, ZEN4)
    monkeypatch.setattr(engines, "cuda_available", lambda: False)
    _, decision = EngineCache(policy=EnginePolicy()).resolve(model, probes, 2.0)
    assert "was the faster" in decision.reason
    assert decision.spec in (OPENVINO_FP32, OPENVINO_BF16)


@pytest.mark.parametrize(
    ("engine", "precision", "cpu", "tried"),
    [
        ("openvino", "auto", SAPPHIRE_RAPIDS, [OPENVINO_BF16]),
        ("openvino", "auto", HIDDEN_AMX, [OPENVINO_FP32, OPENVINO_BF16]),
        ("openvino/cpu", "auto", HIDDEN_AMX, [OPENVINO_FP32, OPENVINO_BF16]),
        ("openvino", "auto", EPYC, [OPENVINO_FP32]),
        ("openvino", "fp32", HIDDEN_AMX, [OPENVINO_FP32]),  # a precision named: not timed
        ("openvino/cpu/bf16", "auto", HIDDEN_AMX, [OPENVINO_BF16]),
    ],
)
def test_openvino_without_a_precision_takes_the_best_this_cpu_has(
    monkeypatch: pytest.MonkeyPatch,
    model: Path,
    engine: str,
    precision: str,
    cpu: Cpu,
    tried: list[EngineSpec],
) -> None:
    use_cpu(monkeypatch, cpu)
    cache = EngineCache(policy=EnginePolicy(engine, precision))
    _, decision = cache.resolve(model, probes, 2.0)
    assert decision.spec in tried
    assert ("was the faster" in decision.reason) == (len(tried) > 1)


def test_bf16_asked_for_on_an_avx2_cpu_runs_fp32_and_says_why(
    monkeypatch: pytest.MonkeyPatch, model: Path
) -> None:
    use_cpu(monkeypatch, EPYC)
    cache = EngineCache(policy=EnginePolicy("openvino/cpu/bf16", "auto"))
    _, decision = cache.resolve(model, probes, 2.0)
    assert decision.spec == EngineSpec(Runtime.OPENVINO)  # OpenVINO, at fp32
    assert any("bf16 is emulated" in note for note in decision.refused)


def test_int8_below_the_floor_is_refused_with_its_figure(tmp_path: Path, model: Path) -> None:
    policy = EnginePolicy("onnxruntime", "int8", min_psnr=200, cache_dir=tmp_path / "cache")
    _, decision = EngineCache(policy=policy).resolve(model, probes, 2.0)
    assert decision.spec == EngineSpec()
    (note,) = decision.refused
    assert note.startswith("onnxruntime/cpu/int8: ") and "below the floor of 200 dB" in note


def test_int8_above_the_floor_runs_and_is_cached(tmp_path: Path, model: Path) -> None:
    policy = EnginePolicy("onnxruntime", "int8", min_psnr=10, cache_dir=tmp_path / "cache")
    engine, decision = EngineCache(policy=policy).resolve(model, probes, 2.0)
    assert decision.spec.precision is Precision.INT8
    assert decision.psnr is not None and 10 <= decision.psnr < 200
    (quantised,) = (tmp_path / "cache" / "int8").glob("*.onnx")
    assert Path(engine.path) == quantised  # type: ignore[attr-defined]
    # A style's own floor wins over the server's.
    _, strict = EngineCache(policy=policy).resolve(model, probes, 2.0, min_psnr=200)
    assert strict.spec == EngineSpec()


@pytest.mark.parametrize("cpu", [EPYC, SAPPHIRE_RAPIDS])
def test_int8_asked_for_with_the_engine_on_auto_is_onnx_runtimes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model: Path, cpu: Cpu
) -> None:
    use_cpu(monkeypatch, cpu)  # auto picks OpenVINO on both, which has no int8 here
    monkeypatch.setattr(engines, "cuda_available", lambda: False)
    policy = EnginePolicy("auto", "int8", min_psnr=10, cache_dir=tmp_path / "cache")
    _, decision = EngineCache(policy=policy).resolve(model, probes, 2.0)
    assert decision.spec == EngineSpec(precision=Precision.INT8)


def test_the_log_names_the_models_file_not_only_its_folder(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, model: Path
) -> None:
    shared = tmp_path / "models" / "waifu2x-photo-2x-60438dc6a0ae.onnx"  # converted upscalers
    shared.parent.mkdir()
    shared.write_bytes(model.read_bytes())
    with caplog.at_level("INFO", logger="pixserve.inference.cache"):
        EngineCache(policy=EnginePolicy("onnxruntime")).resolve(shared, probes, 2.0)
    assert "models/waifu2x-photo-2x-60438dc6a0ae.onnx runs on onnxruntime/cpu/fp32" in caplog.text


def test_threads_share_the_cores_among_workers(tmp_path: Path) -> None:
    from pixserve.bootstrap import engine_policy
    from pixserve.core.hardware import this_cpu
    from pixserve.core.settings import Settings

    settings = Settings(data_dir=tmp_path)
    cores = this_cpu().cores
    assert engine_policy(settings, 1).threads == cores
    assert engine_policy(settings, cores * 2).threads == 1
    assert engine_policy(settings.model_copy(update={"engine_threads": 3}), 1).threads == 3


def test_decisions_are_remembered_across_restarts(tmp_path: Path, model: Path) -> None:
    policy = EnginePolicy("onnxruntime", "int8", min_psnr=10, cache_dir=tmp_path / "cache")
    _, first = EngineCache(policy=policy).resolve(model, probes, 2.0)
    calls: list[int] = []

    def counted() -> list[np.ndarray]:
        calls.append(1)
        return probes()

    _, again = EngineCache(policy=policy).resolve(model, counted, 2.0)  # a new process
    assert again == first and calls == []  # no probing, no quantising again
    model.write_bytes(model.read_bytes())  # a changed file is decided afresh
    EngineCache(policy=policy).resolve(model, counted, 2.0)
    assert calls


def test_a_remembered_decision_is_dropped_when_the_auto_choice_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model: Path
) -> None:
    use_cpu(monkeypatch, EPYC)
    policy = EnginePolicy(cache_dir=tmp_path / "cache")
    old = engines.Choice(EngineSpec(), "an older pixserve's choice")
    monkeypatch.setattr(engines, "choose", lambda cpu: old)
    _, before = EngineCache(policy=policy).resolve(model, probes, 2.0)
    monkeypatch.setattr(
        engines, "choose", lambda cpu: engines.Choice(EngineSpec(Runtime.OPENVINO), "now")
    )
    _, after = EngineCache(policy=policy).resolve(model, probes, 2.0)  # a new process
    assert (before.spec, after.spec) == (EngineSpec(), EngineSpec(Runtime.OPENVINO))
    assert after.reason == "now"
