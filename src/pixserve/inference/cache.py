"""``EngineCache``: load each model once per engine, keep it warm, share it between threads,
and decide which engine each model runs on.

:meth:`EngineCache.resolve` turns a policy (``auto``, a runtime, a precision; from
settings or the style) into an engine for one model: ``auto`` asks
:func:`~pixserve.inference.engines.choose` what the hardware offers, and times the
candidates on the model where the CPU's flags do not decide. Any variant below fp32 (bf16,
int8) is compared with ONNX Runtime fp32 on probe images first; below the floor
(``min_psnr``, default 35 dB) it is refused with the figure and the model runs in fp32.
Every decision is kept (:meth:`EngineCache.decisions`) for ``/v1/styles`` and ``/metrics``,
and remembered in ``cache_dir`` (keyed by the model file, the policy and the CPU), so a
restarted worker loads its engines without probing again.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pixserve.core.errors import ModelError, PixserveError
from pixserve.core.hardware import this_cpu
from pixserve.inference import engines
from pixserve.inference.engine import Engine
from pixserve.inference.onnx import OnnxEngine
from pixserve.inference.rows import WHOLE_PEAK, BoundedEngine
from pixserve.inference.spec import BASELINE, Device, EngineSpec, Precision, Runtime
from pixserve.inference.torch_onnx import cuda_available as torch_cuda

log = logging.getLogger(__name__)

#: Builds the baseline (ONNX Runtime fp32) engine for a model file; tests swap it.
Loader = Callable[[Path], Engine]
#: Where decisions are remembered across restarts, in the policy's ``cache_dir``.
DECISIONS = "decisions.json"
#: Default fidelity floor: PSNR of a variant against fp32, in dB of the output range.
MIN_PSNR = 35.0


@dataclass(frozen=True)
class EnginePolicy:
    """What engine to use: ``auto`` or a runtime / a full spec, and a precision."""

    engine: str = "auto"  # auto | onnxruntime | openvino | e.g. "openvino/cpu/bf16"
    precision: str = "auto"  # auto | fp32 | bf16 | fp16 | int8
    min_psnr: float = MIN_PSNR
    #: Intra-op threads per engine (None: the runtime's default).
    threads: int | None = None
    #: Compiled blobs and int8 models (kept across restarts); None: nothing kept.
    cache_dir: Path | None = None
    #: MB a whole-image fp32 run on the CPU may take; a larger input runs in row bands
    #: (:class:`~pixserve.inference.rows.BoundedEngine`). None: always whole.
    run_memory_mb: int | None = None

    def merged(
        self, engine: str | None, precision: str | None, min_psnr: float | None
    ) -> EnginePolicy:
        """This policy with a style's own choices, where it makes any."""
        return replace(
            self,
            engine=engine or self.engine,
            precision=precision or self.precision,
            min_psnr=self.min_psnr if min_psnr is None else min_psnr,
        )


@dataclass(frozen=True)
class Decision:
    """The engine a model runs on, and why."""

    spec: EngineSpec
    reason: str
    #: PSNR of ``spec`` against fp32 on the probes, None for fp32 itself.
    psnr: float | None = None
    #: What was tried first and refused, with the reason (a figure below the floor …).
    refused: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "engine": f"{self.spec.runtime}/{self.spec.device}",
            "precision": str(self.spec.precision),
            "psnr_db": None if self.psnr is None else round(self.psnr, 1),
            "reason": self.reason,
            "refused": list(self.refused),
        }


#: Probe batches in the model's convention, and the width of its output range.
Probes = Callable[[], Sequence[np.ndarray]]


class EngineCache:
    """A thread-safe map from (model path, engine spec) to a loaded :class:`Engine`.

    Each pair is loaded at most once, even when many threads ask for it at the same
    moment; loads of different pairs do not wait for each other. A failed load is not
    cached, so a fixed file can be retried.
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        loader: Loader | None = None,
        policy: EnginePolicy | None = None,
    ) -> None:
        # Without a policy: ONNX Runtime fp32 for every model (what tests expect); the
        # server passes the settings' policy, ``auto`` by default.
        self.policy = policy or EnginePolicy("onnxruntime", "fp32", threads=threads)
        threads = self.policy.threads
        self._loader: Loader = loader or (lambda path: OnnxEngine(path, threads=threads))
        self._engines: dict[tuple[Path, EngineSpec], Engine] = {}
        self._loading: dict[object, threading.Lock] = {}
        self._decisions: dict[tuple[Path, EnginePolicy], tuple[Engine, Decision]] = {}
        self._lock = threading.Lock()

    def get(
        self, path: Path | str, spec: EngineSpec = BASELINE, calibration: Probes | None = None
    ) -> Engine:
        """The engine running ``path`` as ``spec`` (default ONNX Runtime fp32), loaded on
        first use. ``calibration`` gives int8 its calibration batches."""
        key = (Path(path).resolve(), spec)
        engine = self._engines.get(key)
        if engine is not None:
            return engine
        with self._once(key):
            engine = self._engines.get(key)
            if engine is None:
                engine = self._build(key[0], spec, calibration)
                with self._lock:
                    self._engines[key] = engine
            return engine

    def resolve(
        self,
        path: Path | str,
        probes: Probes,
        span: float,
        *,
        engine: str | None = None,
        precision: str | None = None,
        min_psnr: float | None = None,
    ) -> tuple[Engine, Decision]:
        """The engine ``path`` should run on under this cache's policy and a style's own
        ``engine`` / ``precision`` / ``min_psnr``; decided once per model and policy.

        ``probes`` makes batches in the model's convention (photos); ``span`` is the width
        of its output range (2 for −1..1), for the PSNR.
        """
        policy = self.policy.merged(engine, precision, min_psnr)
        key = (Path(path).resolve(), policy)
        found = self._decisions.get(key)
        if found is not None:
            return found
        with self._once(key):
            found = self._decisions.get(key)
            if found is None:
                found = self._remembered(key[0], policy) or self._decide(
                    key[0], policy, probes, span
                )
                self._remember(key[0], policy, found[1])
                with self._lock:
                    self._decisions[key] = found
            return found

    def decisions(self) -> dict[Path, Decision]:
        """The decision made for each model (the last, where policies differ)."""
        return {path: decision for (path, _), (_, decision) in self._decisions.items()}

    def remembers_decisions(self) -> bool:
        """Whether an earlier process left engine decisions to load (so loading times no
        engines: a restart)."""
        cache = self.policy.cache_dir
        return cache is not None and (cache / DECISIONS).is_file()

    def warm(self, paths: Iterable[Path | str]) -> None:
        """Load every model in ``paths`` now, so the first request does not pay for it."""
        for path in paths:
            self.get(path)

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, Path | str):
            return False
        resolved = Path(path).resolve()
        return any(p == resolved for p, _ in self._engines)

    def __len__(self) -> int:
        return len(self._engines)

    # --- inside ---

    def _once(self, key: object) -> threading.Lock:
        with self._lock:
            return self._loading.setdefault(key, threading.Lock())

    def _build(self, path: Path, spec: EngineSpec, calibration: Probes | None) -> Engine:
        if spec == BASELINE:
            engine = self._loader(path)
        else:
            spec = EngineSpec(spec.runtime, spec.device, spec.precision, self.policy.threads)
            batches = calibration() if calibration is not None else ()
            engine = engines.build(path, spec, cache_dir=self.policy.cache_dir, calibration=batches)
        budget = self.policy.run_memory_mb
        if budget and spec.device is Device.CPU and spec.precision is Precision.FP32:
            peak = WHOLE_PEAK.get(spec.runtime)
            if peak is not None:
                threads = self.policy.threads
                return BoundedEngine(engine, path, budget=budget << 20, peak=peak, threads=threads)
        return engine

    def _decide(
        self, path: Path, policy: EnginePolicy, probes: Probes, span: float
    ) -> tuple[Engine, Decision]:
        """Try the policy's candidates in order, then each at fp32, then the baseline."""
        candidates, reason = self._candidates(policy)
        cpu = this_cpu()
        refused: list[str] = []
        usable = []
        for spec in candidates:
            why_not = engines.supported(spec, cpu)
            if why_not is None:
                usable.append(spec)
            else:
                refused.append(f"{spec}: {why_not}")
        if len(usable) > 1:  # the flags did not decide: time them on this model
            built = [self.get(path, spec, probes) for spec in usable]
            best = usable[engines.faster(built, probes()[0])]
            reason += f"; {best} was the faster"
            usable = [best]
        as_fp32 = [spec.with_precision(Precision.FP32) for spec in candidates]
        fp32 = [spec for spec in as_fp32 if engines.supported(spec, cpu) is None]
        for spec in _unique([*usable, *fp32, BASELINE]):
            try:
                engine = self.get(path, spec, probes)
                exact = spec.precision is Precision.FP32
                psnr = None if exact else self._psnr(path, engine, probes, span)
            except PixserveError as exc:
                if spec == BASELINE:
                    raise
                refused.append(f"{spec}: {exc.message}")
                continue
            if psnr is not None and psnr < policy.min_psnr:
                refused.append(
                    f"{spec}: {psnr:.1f} dB against fp32, below the floor of {policy.min_psnr:g} dB"
                )
                continue
            if refused and spec not in usable:
                reason += f"; {spec} instead"
            decision = Decision(spec, reason, psnr, tuple(refused))
            self._log(path, decision)
            self._release(path, keep=spec)
            return engine, decision
        raise AssertionError("the baseline either returns or raises")

    def _release(self, path: Path, *, keep: EngineSpec) -> None:
        """Drop the engines built only to compare or time (the fp32 baseline, the losers):
        a model held twice is memory a worker never uses again."""
        with self._lock:
            for key in [k for k in self._engines if k[0] == path and k[1] != keep]:
                del self._engines[key]

    def _memory_key(self, path: Path, policy: EnginePolicy) -> str:
        """What a remembered decision depends on: the file, the policy, the CPU, and the
        engines the policy tries there (a pixserve whose choice changed decides afresh)."""
        stat = path.stat()
        tried = ",".join(str(spec) for spec in self._candidates(policy)[0])
        return (
            f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{policy.engine}|{policy.precision}|"
            f"{policy.min_psnr:g}|{this_cpu().describe()}|{tried}"
        )

    def _remembered(self, path: Path, policy: EnginePolicy) -> tuple[Engine, Decision] | None:
        """A decision made by an earlier process, loaded without probing again."""
        if policy.cache_dir is None:
            return None
        try:
            saved = json.loads((policy.cache_dir / DECISIONS).read_text())
            entry = saved[self._memory_key(path, policy)]
            spec = EngineSpec.parse(entry["spec"])
            decision = Decision(spec, entry["reason"], entry["psnr"], tuple(entry["refused"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        try:
            return self.get(path, spec), decision  # int8: its quantised file is cached too
        except PixserveError:
            return None

    def _remember(self, path: Path, policy: EnginePolicy, decision: Decision) -> None:
        if policy.cache_dir is None:
            return
        file = policy.cache_dir / DECISIONS
        with self._lock:
            try:
                saved = json.loads(file.read_text()) if file.is_file() else {}
            except (OSError, ValueError):
                saved = {}
            saved[self._memory_key(path, policy)] = {
                "spec": str(decision.spec),
                "reason": decision.reason,
                "psnr": decision.psnr,
                "refused": list(decision.refused),
            }
            file.parent.mkdir(parents=True, exist_ok=True)
            part = file.with_suffix(f".{os.getpid()}.part")
            part.write_text(json.dumps(saved, indent=1))
            os.replace(part, file)

    def _candidates(self, policy: EnginePolicy) -> tuple[list[EngineSpec], str]:
        """The specs a policy tries (several are timed and the fastest tried first), and why."""
        precision = None if policy.precision == "auto" else Precision(policy.precision)
        if policy.engine == "auto":
            choice = engines.choose(this_cpu())
            specs = list(choice.undecided or (choice.spec,))
            reason = choice.reason
            if precision is not None:
                specs = [_at(s, precision) for s in specs]
                reason += f"; precision {precision} asked for"
            return _unique(specs), reason
        spec = EngineSpec.parse(policy.engine)
        if spec.runtime is Runtime.TORCH and "/" not in policy.engine and torch_cuda():
            spec = replace(spec, device=Device.CUDA)  # "torch" on a GPU machine: the GPU
        reason = f"engine {policy.engine!r} asked for"
        if precision is not None:
            return [spec.with_precision(precision)], reason
        if policy.engine.count("/") < 2:  # no precision named: the best the runtime has here
            cpu = this_cpu()
            if spec.runtime is Runtime.OPENVINO and cpu.bf16:
                bf16 = spec.with_precision(Precision.BF16)
                return ([bf16] if cpu.amx else [spec, bf16]), reason  # without AMX: timed
            if spec.runtime is Runtime.TORCH and spec.device is Device.CUDA:
                spec = spec.with_precision(Precision.FP16)
        return [spec], reason

    def _psnr(self, path: Path, engine: Engine, probes: Probes, span: float) -> float:
        """PSNR (dB) of ``engine`` against ONNX Runtime fp32 on the probes; the worst
        probe decides."""
        baseline = self.get(path)
        return min(psnr(baseline.run(batch), engine.run(batch), span) for batch in probes())

    @staticmethod
    def _log(path: Path, decision: Decision) -> None:
        # A style's folder and file (mosaic/model.onnx), or a converted upscaler's file in the
        # data dir's models/ folder, which the folder alone would not tell apart.
        model = f"{path.parent.name}/{path.name}"
        figure = "" if decision.psnr is None else f" ({decision.psnr:.1f} dB against fp32)"
        log.info("%s runs on %s%s: %s", model, decision.spec, figure, decision.reason)
        for note in decision.refused:
            log.warning("%s: refused %s", model, note)


def _at(spec: EngineSpec, precision: Precision) -> EngineSpec:
    """``spec`` at ``precision``; int8 on the CPU is ONNX Runtime's (OpenVINO runs fp32, bf16)."""
    if precision is Precision.INT8 and spec.device is Device.CPU:
        spec = replace(spec, runtime=Runtime.ONNXRUNTIME)
    return spec.with_precision(precision)


def _unique(specs: list[EngineSpec]) -> list[EngineSpec]:
    seen: list[EngineSpec] = []
    for spec in specs:
        if spec not in seen:
            seen.append(spec)
    return seen


def psnr(reference: np.ndarray, output: np.ndarray, span: float) -> float:
    """``10·log10(span² / mse)`` in dB; inf when identical. ``ModelError`` if shapes differ."""
    if reference.shape != output.shape:
        raise ModelError(f"output {output.shape} differs from fp32's {reference.shape}")
    mse = float(np.mean((reference.astype(np.float64) - output) ** 2))
    return math.inf if mse == 0 else float(10 * np.log10(span**2 / mse))
