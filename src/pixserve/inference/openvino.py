"""``OpenVinoEngine``: an ONNX model compiled by OpenVINO for the CPU, in fp32 or bf16.

On CPUs with AMX, OpenVINO's bf16 kernels run convolutional generators about ten times
faster than ONNX Runtime in fp32 (see ``docs/performance.md``). The model is compiled once,
with dynamic height and width: compiling for each exact shape ran a 512² image ~5–25 %
faster but cost about a second per new shape, and job photos come in every size. Compiled
blobs go to ``cache_dir`` so a restarted worker loads them instead of compiling again.

Needs the ``openvino`` package (the ``fast`` extra); :func:`available` says whether it is
installed.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import logging
import os
import shutil
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from pixserve.core.errors import BundleError, ModelError
from pixserve.core.memory import page_out_files
from pixserve.inference.onnx import _first_line
from pixserve.inference.spec import Device, EngineSpec, Precision, Runtime

log = logging.getLogger(__name__)

#: Input shapes whose prepared kernels OpenVINO's CPU plugin keeps per model.
RUNTIME_CACHE = 8
#: Kernels kept by oneDNN, inside OpenVINO, for the whole process. Its default (1024) let
#: a server's memory grow by ~0.8 MB with every new photo size for a ResNet-9 (each shape's
#: kernels kept even after its model is gone); 16 keeps it flat at the same speed, since
#: the plugin's own per-shape cache (above) is what repeated shapes hit. Read when OpenVINO
#: loads, so it is set before the first import; an operator's own value wins.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
_HINTS = {Precision.FP32: "f32", Precision.BF16: "bf16"}
#: Seconds without a run after which an engine gives its activations back. Giving them back
#: after every run cost the next one 6–9 % (the ResNet-9 at 512² and 1024², bf16 on AMX:
#: fresh pages to fault in), paid on every job of a busy worker; between the jobs of a busy
#: worker the gap is far shorter than this.
RELEASE_AFTER_IDLE_S = 2.0
#: Idle engines that still hold their activations. A run of any other engine releases them
#: first, so a worker serving many styles holds the largest style's activations, not the sum.
_holding: weakref.WeakSet[OpenVinoEngine] = weakref.WeakSet()
_holding_lock = threading.Lock()
#: Every engine alive, for the exit hook: one released by another's run keeps its timer.
_engines: weakref.WeakSet[OpenVinoEngine] = weakref.WeakSet()
#: Seconds a replaced model's cached blobs stay on disk (see :func:`version_dir`).
STALE_AFTER_S = 3600.0
#: Set at exit: from then on, a timer neither releases nor loads a model.
_exiting = threading.Event()


@atexit.register
def _no_release_at_exit() -> None:
    """Cancel the pending releases: a timer firing while the interpreter and OpenVINO's
    plugins are torn down could call into a half-destroyed runtime."""
    _exiting.set()
    with _holding_lock:
        alive = list(_engines)
    for engine in alive:
        with engine._lock:  # waits for a release already under way
            engine._cancel_release()


def version_dir(root: Path, model: Path) -> Path:
    """The folder under ``root`` for the blobs and IR of ``model`` as the file is now.

    OpenVINO finds a compiled blob by the model file's path alone, so a model replaced at
    the same path would run its old weights from the cache. Each version of the file (its
    inode, size and modification time: a copy that keeps all three, ``cp -p`` over the old
    file in place, goes unnoticed) gets a folder of its own under one per path. An engine
    marks its folder used when it is built and whenever it loads from it again. The path's
    other versions, and files left at ``root`` itself by earlier pixserve versions (which
    kept every model's there), are removed once unused for :data:`STALE_AFTER_S`: a process
    that shares the data dir and still runs one of them (a rolling deploy) keeps its folder
    meanwhile.
    """
    resolved = model.resolve()
    stat = resolved.stat()
    home = root / f"{resolved.stem[:64]}-{_digest(os.fsencode(resolved))}"
    version = f"{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}"
    here = home / _digest(version.encode())
    _in_use(here)
    stale = time.time() - STALE_AFTER_S
    for old in (*home.iterdir(), *root.iterdir()):
        with contextlib.suppress(OSError):  # another process may remove it first
            if old == here or old.stat().st_mtime > stale:
                continue
            if old.parent == home and old.is_dir():
                shutil.rmtree(old)
            elif old.parent == root and old.is_file():
                old.unlink()
    return here


def _in_use(folder: Path) -> None:
    """Make ``folder`` (again, if another process removed it) and mark it used now."""
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def _release_later(engine: weakref.ref[OpenVinoEngine], runs: int) -> None:
    """The idle timer: release ``engine`` if it still exists and has not run since."""
    alive = engine()
    if alive is not None and not _exiting.is_set():
        alive._release_if_idle(runs)


def release_idle(*, but: OpenVinoEngine | None = None) -> None:
    """Make every idle engine (``but`` one) give its activations back: called before a run,
    so a worker serving many styles holds the largest style's activations, not the sum."""
    with _holding_lock:
        idle = [engine for engine in _holding if engine is not but]
        _holding.clear()
    for engine in idle:
        engine._release_if_idle()


def _weights_to_fp16(model: Any) -> None:
    """Store ``model``'s fp32 weights as fp16, for a bf16 engine.

    The compiled blob and what it maps into memory halve (43 → 21 MB for a ResNet-9), and
    the output does not change in any way that matters: bf16 keeps fewer mantissa bits than
    fp16, so the weights are rounded further anyway (the ResNet-9 at 512²: 49.30 dB against
    fp32 before, 49.25 dB after; the same speed). OpenVINO's own ``save_model`` does this by
    default; the function is not public, so without it the weights stay fp32.
    """
    try:
        from openvino._offline_transformations import compress_model_transformation
    except ImportError:  # a later OpenVINO moved it: a larger blob, the same results
        return
    compress_model_transformation(model)


def available() -> bool:
    """Whether the ``openvino`` package is installed."""
    return importlib.util.find_spec("openvino") is not None


class OpenVinoEngine:
    """Runs one ``.onnx`` file with OpenVINO on the CPU.

    Reading and compiling happen in the constructor: a broken file fails where the bundle is
    known, and a warmed server's first job does not pay for compiling (from the blob cache
    on a restart: ~0.14 s for 16 models here, so it is done one model after another).
    Thread-safe: each call gets its own infer request. The activations stay allocated from
    one run to the next, and go back once the engine has been idle ``RELEASE_AFTER_IDLE_S``
    (the model is then loaded afresh from the blob cache, which frees what a release
    leaves) or another engine starts a run.
    """

    def __init__(self, path: Path | str, spec: EngineSpec, *, cache_dir: Path | None = None):
        import openvino as ov

        if spec.runtime is not Runtime.OPENVINO or spec.device is not Device.CPU:
            raise ValueError(f"OpenVinoEngine runs openvino/cpu, not {spec}")
        if spec.precision not in _HINTS:
            raise ValueError(f"OpenVINO on the CPU runs fp32 or bf16, not {spec.precision}")
        self.path, self.spec = Path(path), spec
        if not self.path.is_file():
            raise BundleError(f"{self.path}: model file not found")
        core = ov.Core()
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": _HINTS[spec.precision],
            "PERFORMANCE_HINT": "LATENCY",
            # The CPU plugin keeps prepared kernels per input shape for dynamic models (5000
            # by default): with every photo a new size, that is memory that only grows.
            "CPU_RUNTIME_CACHE_CAPACITY": str(RUNTIME_CACHE),
        }
        if spec.threads:
            config["INFERENCE_NUM_THREADS"] = spec.threads
        if cache_dir is not None:
            cache_dir = version_dir(cache_dir, self.path)
            config["CACHE_DIR"] = str(cache_dir)
        self._core, self._config, self._cache_dir = core, config, cache_dir
        self._compiled: Any = self._compile()
        if len(self._compiled.inputs) != 1:
            raise BundleError(f"{self.path}: the model must have exactly one input")
        shape = self._compiled.inputs[0].get_partial_shape()
        self._accepts_batches = shape.rank.is_dynamic or shape[0].is_dynamic
        self._running = 0  # calls in flight
        self._runs = 0  # calls begun: a release waits for this to stand still
        self._release: threading.Timer | None = None  # pending, while the engine is idle
        self._page_out: Path | None = cache_dir  # the blobs, until the first run ends
        self._lock = threading.Lock()
        with _holding_lock:
            _engines.add(self)

    def _compile(self) -> Any:
        """The compiled model: from the blob cache where there is one."""
        core = self._core
        if self._cache_dir is not None:
            with contextlib.suppress(OSError):  # a read-only data dir: OpenVINO says so
                _in_use(self._cache_dir)
        try:  # once, with dynamic height and width: a shape per job would recompile
            return core.compile_model(self._source(core, self._cache_dir), "CPU", self._config)
        except BundleError:
            raise
        except Exception as exc:
            self._read(core)  # an unreadable file is the bundle's fault: BundleError
            raise ModelError(
                f"model {self.path.name}: OpenVINO cannot compile it: {_first_line(exc)}"
            ) from exc

    def _source(self, core: Any, cache_dir: Path | None) -> Any:
        """What to compile: a file where the blob cache can serve it by path, so a restart
        neither parses the ONNX file nor holds its weights while loading the blob (0.17 →
        0.05 s for a ResNet-9); the model itself only for bf16 without a cache."""
        if self.spec.precision is not Precision.BF16:
            return str(self.path)
        if cache_dir is None:
            model = self._read(core)
            _weights_to_fp16(model)
            return model
        ir = cache_dir / f"{self.path.stem}-fp16.xml"
        if not ir.is_file():  # the weights as fp16, once, as OpenVINO's own files
            import openvino as ov

            model = self._read(core)
            _weights_to_fp16(model)
            partial = ir.with_name(f".{os.getpid()}-{ir.name}")
            ov.save_model(model, str(partial), compress_to_fp16=False)
            os.replace(partial.with_suffix(".bin"), ir.with_suffix(".bin"))
            os.replace(partial, ir)
        return str(ir)

    def _read(self, core: Any) -> Any:
        try:
            return core.read_model(str(self.path))
        except Exception as exc:  # OpenVINO raises RuntimeError with a long text
            raise BundleError(f"{self.path}: OpenVINO cannot read it: {_first_line(exc)}") from exc

    @property
    def name(self) -> str:
        return str(self.spec)

    @property
    def accepts_batches(self) -> bool:
        """True unless the model's input fixes its batch size."""
        return bool(self._accepts_batches)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on ``batch`` and return its first output as float32."""
        with self._lock:
            compiled = self._compiled  # a reload swaps it only while no run is in flight
            self._running += 1
            self._runs += 1
            self._cancel_release()
        release_idle(but=self)
        try:
            # A request per call (about a millisecond): a kept one would hold the last
            # photo's output between jobs. The input is read in place and the output copied
            # out once, so no second or third full-size copy lives through the run.
            request = compiled.create_infer_request()
            result = request.infer(
                {0: np.ascontiguousarray(batch, dtype=np.float32)},
                share_inputs=True,
                share_outputs=True,
            )
            return np.array(result[0], dtype=np.float32)
        except Exception as exc:
            raise ModelError(
                f"model {self.path.name} failed on input {tuple(batch.shape)}: {_first_line(exc)}"
            ) from exc
        finally:
            with self._lock:
                self._running -= 1
                now_idle = self._running == 0
                if now_idle:
                    # By weak reference: an engine nobody holds any more (a probe that lost)
                    # is freed at once, not kept 2 s for its timer and then reloaded.
                    self._release = threading.Timer(
                        RELEASE_AFTER_IDLE_S, _release_later, args=(weakref.ref(self), self._runs)
                    )
                    self._release.daemon = True
                    self._release.start()
                    if self._page_out is not None:
                        # The first run read the blob's weights into the kernels' own
                        # layout: the mapped copy need not stay resident (about 21 MB for
                        # a ResNet-9). Once: a later read faults it back in and it stays.
                        page_out_files(self._page_out)
                        self._page_out = None
            if now_idle:
                with _holding_lock:
                    _holding.add(self)

    def _release_if_idle(self, runs: int | None = None) -> None:
        """Give the activations back if no run is in flight (and, given ``runs``, none has
        begun since). OpenVINO otherwise keeps those of the largest photo so far (about
        360 MB for a ResNet-9 at 1024², bf16) for as long as the model is loaded.

        Given ``runs`` (the idle timer), the model is then loaded again from the blob cache:
        ``release_memory()`` leaves part of the peak behind, freed only with the compiled
        model (95 MB of a ResNet-9's after a 1024×768 photo, bf16 on AMX), so every style a
        worker had run held that much for good. Loading the blob takes about 20 ms, in the
        timer's thread; the next run prepares its kernels again (1024×768: 750 ms against
        690 ms after a release alone and 645 ms warm).
        """
        with self._lock:
            if self._running or runs not in (None, self._runs) or _exiting.is_set():
                return
            self._compiled.release_memory()
        if runs is None or self._cache_dir is None or _exiting.is_set():
            return
        try:
            fresh = self._compile()
        except Exception as exc:  # it compiled before: keep the released one
            log.warning("could not reload %s from its blob: %s", self.path.name, exc)
            return
        with self._lock:
            if self._running == 0 and runs == self._runs:
                self._compiled, fresh = fresh, self._compiled
                self._page_out = self._cache_dir  # the blob is mapped afresh
        del fresh  # the old model, or the fresh one if a run began meanwhile

    def _cancel_release(self) -> None:
        if self._release is not None:
            self._release.cancel()
            self._release = None

    def __repr__(self) -> str:
        return f"OpenVinoEngine({str(self.path)!r}, {self.spec})"
