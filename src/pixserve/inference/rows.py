"""``RowsEngine``: a convolutional model run a band of rows at a time, in bounded memory.

A whole-image engine holds a generator's largest activations several times over: for a
CycleGAN ResNet-9 at 1024² in fp32, OpenVINO took 665 MB and ONNX Runtime 1.1 GB above
the loaded model, because a 256 MB full-resolution activation lives beside its input and
the padded copy the next convolution reads. This engine walks the same ONNX graph one
operation at a time and keeps every activation as row chunks of at most
:data:`CHUNK_BYTES`:

- a convolution (or transposed convolution) makes its output a band of rows at a time,
  each band from the input rows it needs (its halo, reflected, repeated or zero at the
  edges), with ONNX Runtime running that one operation (a transposed one as an ordinary
  convolution per output phase), or as one matrix product and shifted sums when it has
  few output channels (:func:`_shift_add`); an input read for the last time gives back
  each chunk once the bands below no longer need it;
- instance normalisation gathers each channel's mean and variance over all chunks, then
  normalises in place; element-wise operations, nearest-neighbour upsampling and residual
  sums work chunk by chunk, in place where their input is not needed again;
- the largest activations that only a normalisation reads, on their way to the next
  convolution, are never held at all: their convolution runs twice (:meth:`_defer`).

The ResNet-9 at 1024² then needs about 180 MB above the loaded model, at 1.3–1.5× the
time of OpenVINO fp32 on the whole image (docs/performance.md). Outputs match the
whole-image ONNX Runtime run to float rounding (the same kernels, tiled differently).

Only graphs made of the operations below load (among ``pixserve import``'s families:
CycleGAN, pix2pixHD and fast style transfer); any other raises :class:`UnsupportedGraph`,
and :class:`BoundedEngine` keeps such a model on its whole-image engine.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pixserve.core.errors import BundleError, ModelError
from pixserve.inference.engine import Engine
from pixserve.inference.onnx import PROVIDER, session_options
from pixserve.inference.openvino import release_idle

log = logging.getLogger(__name__)

#: Bytes of one activation chunk, and so of one band of a convolution's output. ONNX Runtime
#: ran a 256-channel 3×3 convolution at 256² at 95 % of its whole-image speed in bands of
#: 64 rows (16 MB), 79 % in bands of 16 rows (4 MB). With 8 MB a ResNet-9 at 1024² took
#: 4–9 % longer than with 16 MB and peaked 46 MB lower (176 against 222 MB).
CHUNK_BYTES = 8 << 20
#: Convolutions with at most this many output values per input pixel (output channels ×
#: kernel taps, e.g. a generator's last 7×7 convolution to RGB: 147) run as one matrix
#: product and shifted sums (:func:`_shift_add`): ONNX Runtime unfolds their input into a
#: matrix 49 times its size and ran them at 11–25 GFLOP/s, this at about 60.
SHIFT_ADD_MAX = 256
_OPSET = 17


class UnsupportedGraph(Exception):
    """The model has an operation (or a form of one) this engine does not run in rows. An
    operator's matter, never a user's: the whole-image engine runs such a model."""


#: Changes its argument in place (a Relu, a per-channel product …).
_Elementwise = Callable[[np.ndarray], object]


@dataclass
class _Step:
    op: str
    inputs: list[str]
    output: str
    #: Geometry, weights kept in numpy, and ``deferred`` (see :meth:`RowsEngine._defer`).
    attrs: dict[str, Any] = field(default_factory=dict)
    #: For Conv: the one-operation ONNX Runtime session.
    session: Any = None
    #: For ConvTranspose: a Conv session per (row, column) phase with kernel taps.
    phases: dict[tuple[int, int], Any] = field(default_factory=dict)
    #: Elementwise functions applied in place after this step (a Relu after a norm …).
    then: list[_Elementwise] = field(default_factory=list)


def _rows_within(row_values: int) -> int:
    """Rows of ``row_values`` float32 values each that fit in :data:`CHUNK_BYTES`."""
    return max(1, CHUNK_BYTES // (4 * max(row_values, 1)))


#: Makes chunk ``i`` of an operation's output; with ``free``, gives back the input's
#: chunks that later chunks no longer need.
_Make = Callable[[int, bool], np.ndarray]


class _Scratch:
    """One buffer reused for a temporary of every band (each a new shape at most as large
    as the first): a server maps each large block on its own (:func:`map_large_blocks`),
    so a new array per band costs fresh pages faulted in. At 1024×768 a ResNet-9 touched
    8 GB of them, and ran 1.4× slower than with the heap's recycled blocks."""

    def __init__(self) -> None:
        self._buffer = np.empty(0, np.float32)

    def take(self, *shape: int) -> np.ndarray:
        size = int(np.prod(shape))
        if size > self._buffer.size:
            self._buffer = np.empty(size, np.float32)
        return self._buffer[:size].reshape(shape)


class _Rows:
    """An activation (C, H, W) held as chunks of ``step`` rows; a chunk is None once freed.

    A lazy one (``produce``) makes its chunks in order when first read. A deferred one
    (``deferred``: the operation's maker and whether its input may be freed) holds none:
    the instance normalisation reading it makes every chunk twice, once for its statistics
    and once to normalise, so the activation is never held whole.
    """

    def __init__(self, channels: int, height: int, width: int) -> None:
        self.shape = (channels, height, width)
        self.step = min(height, _rows_within(channels * width))
        self.chunks: list[np.ndarray | None] = []
        self.produce: Callable[[int], np.ndarray] | None = None
        self.deferred: tuple[_Make, bool] | None = None

    @property
    def count(self) -> int:
        return -(-self.height // self.step)

    def chunk(self, i: int) -> np.ndarray:
        while self.produce is not None and len(self.chunks) <= i:
            self.chunks.append(self.produce(len(self.chunks)))
        chunk = self.chunks[i]
        if chunk is None:
            raise AssertionError(f"chunk {i} was freed")
        return chunk

    def every(self) -> list[np.ndarray]:
        """All chunks, made first where lazy."""
        return [self.chunk(i) for i in range(self.count)]

    @classmethod
    def of(cls, array: np.ndarray) -> _Rows:
        rows = cls(*array.shape)
        rows.chunks = [array[:, i : i + rows.step] for i in range(0, array.shape[1], rows.step)]
        return rows

    @property
    def height(self) -> int:
        return self.shape[1]

    def bands(self) -> list[tuple[int, int]]:
        h = self.height
        return [(i, min(h, i + self.step)) for i in range(0, h, self.step)]

    def band(
        self,
        index: np.ndarray,
        left: int = 0,
        right: int = 0,
        mode: str = "",
        scratch: _Scratch | None = None,
    ) -> np.ndarray:
        """Rows ``index`` (each within 0..H-1) as one (C, len, left + W + right) array, new
        or in ``scratch``, the extra columns padded by ``mode`` (reflect, edge, or zeros for
        anything else)."""
        channels, _, width = self.shape
        shape = (channels, index.size, left + width + right)
        out = np.empty(shape, np.float32) if scratch is None else scratch.take(*shape)
        j = 0
        while j < index.size:  # runs of consecutive rows within one chunk, one copy each
            row = int(index[j])
            n = 1
            end = (row // self.step + 1) * self.step
            while j + n < index.size and index[j + n] == row + n and row + n < end:
                n += 1
            chunk = self.chunk(row // self.step)
            start = row - row // self.step * self.step
            out[:, j : j + n, left : left + width] = chunk[:, start : start + n]
            j += n
        if mode == "reflect":  # column left - 1 - i mirrors left + 1 + i; likewise on the right
            out[:, :, :left] = out[:, :, 2 * left : left : -1]
            out[:, :, left + width :] = out[:, :, left + width - 2 - np.arange(right)]
        elif mode == "edge":
            out[:, :, :left] = out[:, :, left : left + 1]
            out[:, :, left + width :] = out[:, :, left + width - 1 : left + width]
        else:
            out[:, :, :left] = 0
            out[:, :, left + width :] = 0
        return out

    def free_below(self, row: int) -> None:
        """Give back every chunk that ends at or above ``row``."""
        for i in range(min(row // self.step, len(self.chunks))):
            self.chunks[i] = None

    def whole(self) -> np.ndarray:
        chunks = self.every()
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks, axis=1)


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}


def _fold(model: Any) -> tuple[dict[str, np.ndarray], list[Any]]:
    """The graph's constants (initializers, ``Constant`` nodes and everything computed from
    them alone, such as an exporter's pad arithmetic) and the nodes left to run."""
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    consts = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    left = []
    for node in model.graph.node:
        value = _attrs(node).get("value") if node.op_type == "Constant" else None
        if value is not None:
            consts[node.output[0]] = numpy_helper.to_array(value)
        elif node.op_type not in _WEIGHTED and all(not i or i in consts for i in node.input):
            inputs = [
                helper.make_tensor_value_info(
                    i, helper.np_dtype_to_tensor_dtype(consts[i].dtype), consts[i].shape
                )
                for i in node.input
                if i
            ]
            outputs = [helper.make_tensor_value_info(o, 0, None) for o in node.output]
            graph = helper.make_graph([node], "fold", inputs, outputs)
            evaluator = ReferenceEvaluator(
                helper.make_model(graph, opset_imports=model.opset_import)
            )
            values = evaluator.run(None, {i: consts[i] for i in node.input if i})
            consts.update(zip(node.output, (np.asarray(v) for v in values), strict=False))
        else:
            left.append(node)
    return consts, left


_WEIGHTED = {"Conv", "ConvTranspose", "InstanceNormalization", "BatchNormalization"}
#: Operations that read their input a band of rows at a time.
_WINDOWED = ("Conv", "ConvTranspose")


def _elementwise(node: Any, consts: dict[str, np.ndarray]) -> _Elementwise | None:
    """An in-place function for an elementwise node of one activation, or None."""
    op, attrs = node.op_type, _attrs(node)
    if op == "BatchNormalization" and all(i in consts for i in node.input[1:5]):
        scale, bias, mean, var = (consts[i].astype(np.float64) for i in node.input[1:5])
        a = scale / np.sqrt(var + attrs.get("epsilon", 1e-5))
        mul = a.astype(np.float32)[:, None, None]
        add = (bias - mean * a).astype(np.float32)[:, None, None]

        def affine(x: np.ndarray) -> None:
            x *= mul
            x += add

        return affine
    if op == "Relu":
        return lambda x: np.maximum(x, 0, out=x)
    if op == "LeakyRelu":
        alpha = np.float32(attrs.get("alpha", 0.01))
        return lambda x: np.multiply(x, alpha, out=x, where=x < 0)
    if op == "Tanh":
        return lambda x: np.tanh(x, out=x)
    if op == "Sigmoid":

        def sigmoid(x: np.ndarray) -> None:
            np.negative(x, out=x)
            np.exp(x, out=x)
            x += 1
            np.reciprocal(x, out=x)

        return sigmoid
    if op == "PRelu" and node.input[1] in consts:
        slope = np.asarray(consts[node.input[1]], np.float32)
        slope = slope.reshape(-1, 1, 1) if slope.size > 1 else slope.reshape(())
        return lambda x: np.multiply(x, slope, out=x, where=x < 0)
    if op in ("Identity", "Dropout"):
        return lambda x: None
    if op == "Clip":
        if any(i and i not in consts for i in node.input[1:]):
            return None
        given = [*node.input[1:], "", ""]
        low = consts[given[0]] if given[0] else attrs.get("min")
        high = consts[given[1]] if given[1] else attrs.get("max")
        return lambda x: np.clip(x, low, high, out=x)
    if op in _ARITHMETIC and sum(i in consts for i in node.input) == 1:
        if node.input[0] in consts and op in ("Sub", "Div"):
            return None  # constant − x: not worth a form of its own
        value = np.asarray(consts[node.input[1] if node.input[1] in consts else node.input[0]])
        shape = (1,) * (4 - value.ndim) + value.shape if value.ndim <= 4 else value.shape
        if len(shape) > 4 or shape[0] != 1 or shape[2] != 1:
            return None  # a value per row would differ from chunk to chunk
        value = value.astype(np.float32).reshape(shape[1:])
        ufunc = _ARITHMETIC[op]
        return lambda x: ufunc(x, value, out=x)
    return None


_ARITHMETIC = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}


def _reflect(index: np.ndarray, size: int, mode: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Row indices brought inside 0..size-1 by ``mode``, and a mask of real rows (constant
    padding only: the others read as zero)."""
    if mode == "reflect":
        index = np.abs(index)
        return np.where(index >= size, 2 * (size - 1) - index, index), None
    inside = (index >= 0) & (index < size)
    clipped = np.clip(index, 0, size - 1)
    return clipped, (None if mode == "edge" or inside.all() else inside)


def _session(
    weights: Sequence[np.ndarray | None], attrs: dict[str, Any], threads: int | None
) -> Any:
    """An ONNX Runtime session running one Conv (with ``weights``: kernel and maybe bias)
    alone on a (1, C, h, w) input."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    kernel = weights[0]
    assert kernel is not None
    names = ["x", "w"] + (["b"] if len(weights) > 1 and weights[1] is not None else [])
    inits = [
        numpy_helper.from_array(np.asarray(w, np.float32), n)
        for w, n in zip(weights, names[1:], strict=False)
        if w is not None
    ]
    # Declaring the channels lets ONNX Runtime run the convolution in its blocked (NCHWc)
    # layout: 200 GFLOP/s against 160 for a 256-channel 3×3 one here.
    channels = kernel.shape[1] * attrs["group"]
    single = helper.make_node("Conv", names, ["y"], **attrs)
    graph = helper.make_graph(
        [single],
        "Conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    options = session_options(threads)
    if _share_arena():
        options.enable_cpu_mem_arena = True
        options.add_session_config_entry("session.use_env_allocators", "1")
    # Through a file: a session made from bytes kept a second copy of the weights
    # (100 MB against 55 MB for a ResNet-9's 43 MB).
    with tempfile.TemporaryDirectory(prefix="pixserve-rows-") as folder:
        file = Path(folder) / "node.onnx"
        file.write_bytes(model.SerializeToString())
        return ort.InferenceSession(str(file), options, providers=[PROVIDER])


_arena_lock = threading.Lock()
#: Run options that give the shared arena's free blocks back: the last band of each step.
_shrink: Any = None
_arena_failed = False


def _share_arena() -> bool:
    """Give the row sessions one memory arena, for the buffers ONNX Runtime needs inside a
    run (the input and output in its blocked layout): without one, each band's were new
    blocks (see :class:`_Scratch`), 75 % of the pages a ResNet-9 faulted in. It grows by
    what is asked (not in powers of two), holds only those (outputs are written into the
    engine's own arrays: :func:`_run_into`), and is emptied after each step's last band
    (one photo at a time: another's steps may hold theirs meanwhile). False where it cannot
    be made (another CPU arena was registered in this process): sessions then allocate as
    the whole-image ones do."""
    global _shrink, _arena_failed
    import onnxruntime as ort

    with _arena_lock:
        if _shrink is None and not _arena_failed:
            memory = ort.OrtMemoryInfo(
                "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
            )
            try:
                config = ort.OrtArenaCfg({"arena_extend_strategy": 1})  # as much as asked
                ort.create_and_register_allocator(memory, config)
            except Exception as exc:  # ONNX Runtime raises its own Fail, a RuntimeError
                log.warning("bands of rows run without a shared arena: %s", exc)
                _arena_failed = True
                return False
            shrink = ort.RunOptions()
            shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
            _shrink = shrink
        return not _arena_failed


class RowsEngine:
    """Runs ``path`` (N, C, H, W) one image at a time, each activation in row chunks.

    Raises :class:`UnsupportedGraph` when the model has an operation it cannot run in rows,
    :class:`BundleError` when the file is missing or not ONNX.
    """

    def __init__(self, path: Path | str, *, threads: int | None = None) -> None:
        import onnx

        self.path = Path(path)
        try:
            model = onnx.load(str(self.path))
        except FileNotFoundError:
            raise BundleError(f"{self.path}: model file not found") from None
        except Exception as exc:  # protobuf's DecodeError and friends
            raise BundleError(f"{self.path}: not an ONNX model: {exc}") from exc
        graph = model.graph
        consts, nodes = _fold(model)
        inputs = [i.name for i in graph.input if i.name not in consts]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise UnsupportedGraph(f"{self.path.name}: needs one input and one output")
        self._input, self._output = inputs[0], graph.output[0].name
        self._threads = threads
        self._pending: list[tuple[_Step, Sequence[str], dict[str, Any]]] = []
        self._lock = threading.Lock()
        try:
            self._steps = self._plan(nodes, consts)
        except UnsupportedGraph:
            raise
        except (KeyError, ValueError, IndexError, TypeError) as exc:  # a form not foreseen
            raise UnsupportedGraph(f"{self.path.name}: {type(exc).__name__}: {exc}") from exc
        self._readers: dict[str, int] = {self._input: 1, self._output: 1}
        for step in self._steps:
            for name in step.inputs:
                self._readers[name] = self._readers.get(name, 0) + 1

    @property
    def name(self) -> str:
        return f"onnxruntime/{PROVIDER} in rows"

    @property
    def accepts_batches(self) -> bool:
        return True

    def prepare(self) -> None:
        """Make the one-operation sessions, reading the weights from the file again: a plan
        alone (enough for :meth:`largest`) holds none. Raises :class:`BundleError` when the
        file is gone or no longer the model that was planned."""
        with self._lock:
            if not self._pending:
                return
            import onnx

            try:
                consts, _ = _fold(onnx.load(str(self.path)))
            except Exception as exc:
                raise BundleError(f"{self.path}: cannot be read again: {exc}") from exc
            for step, names, attrs in self._pending:
                weights = [consts.get(name) if name else None for name in names]
                if weights[0] is None or weights[0].shape[2:] != tuple(step.attrs["kernel"]):
                    raise BundleError(f"{self.path}: the model changed since it was loaded")
                if step.op == "ConvTranspose":
                    step.phases = _phase_sessions(step, weights, attrs["group"], self._threads)
                else:
                    step.session = _session(weights, attrs, self._threads)
            self._pending = []

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.prepare()
        if batch.ndim != 4:
            raise ModelError(f"model {self.path.name}: input {batch.shape} is not (N, C, H, W)")
        images = [self._image(np.asarray(image, np.float32)) for image in batch]
        return np.stack(images)

    def largest(self, height: int, width: int) -> int:
        """Bytes of the largest activation (fp32) for one (height × width) input."""
        return max(self._sizes(self._steps, height, width).values())

    # -- planning ---------------------------------------------------------------------------

    def _sizes(self, steps: Sequence[_Step], height: int, width: int) -> dict[str, int]:
        """Bytes of each step's output (fp32) for one (height × width) input."""
        shapes = {self._input: (0, height, width)}
        sizes = {}
        for step in steps:
            c, h, w = shapes[step.inputs[0]]
            if step.op == "Conv":
                c, (h, w) = step.attrs["channels"], _conv_shape(step.attrs, h, w)
            elif step.op == "Resize":
                h, w = h * step.attrs["scale"], w * step.attrs["scale"]
            elif step.op == "ConvTranspose":
                c, (h, w) = step.attrs["channels"], _conv_transpose_shape(step.attrs, h, w)
            shapes[step.output] = (c, h, w)
            sizes[step.output] = 4 * c * h * w
        return sizes

    def _defer(self, steps: Sequence[_Step]) -> None:
        """Let the largest activations that only an instance normalisation reads, on its
        way to one convolution, never exist whole: their convolution runs twice, once for
        the normalisation's statistics and once, band by band, for the next convolution
        (a ResNet-9's first and last full-resolution ones: at 1024², 2 s more and 110 MB
        less). A convolution whose input is made that way is not deferred too: each level
        would double the work below it."""
        readers: dict[str, list[_Step]] = {self._output: []}
        for step in steps:
            for name in step.inputs:
                readers.setdefault(name, []).append(step)
        made_by = {step.output: step for step in steps}
        sizes = self._sizes(steps, 256, 256)
        streamed: set[str] = set()
        for norm in steps:
            source = made_by.get(norm.inputs[0])
            after = readers.get(norm.output, [])
            if (
                norm.op == "InstanceNormalization"
                and source is not None
                and source.op in _WINDOWED
                and readers[source.output] == [norm]
                and len(after) == 1
                and after[0].op in _WINDOWED
                and norm.output != self._output
                and sizes[source.output] == max(sizes.values())
                and source.inputs[0] not in streamed
                # read again later: nothing else may change or free it meanwhile
                and (source.inputs[0] == self._input or readers[source.inputs[0]] == [source])
            ):
                source.attrs["deferred"] = True
                streamed.add(norm.output)

    def _plan(self, nodes: Sequence[Any], consts: dict[str, np.ndarray]) -> list[_Step]:
        readers: dict[str, int] = {self._output: 1}  # the caller reads the output
        for node in nodes:
            for name in node.input:
                readers[name] = readers.get(name, 0) + 1
        pads: dict[str, tuple[str, tuple[int, int, int, int], str]] = {}
        producer: dict[str, _Step] = {}
        steps: list[_Step] = []
        for node in nodes:
            op, attrs = node.op_type, _attrs(node)
            if len(node.output) != 1 and op not in ("Dropout", "BatchNormalization"):
                raise UnsupportedGraph(f"{self.path.name}: {op} with {len(node.output)} outputs")
            if op == "Pad":
                pads[node.output[0]] = self._pad(node, attrs, consts, readers)
                continue
            if op in ("Conv", "ConvTranspose"):
                step = self._weighted(node, attrs, consts, pads)
            elif op == "InstanceNormalization":
                eps = attrs.get("epsilon", 1e-5)
                step = _Step(op, [node.input[0]], node.output[0], {"epsilon": eps})
                step.attrs["scale"] = consts[node.input[1]].astype(np.float64)
                step.attrs["bias"] = consts[node.input[2]].astype(np.float32)
            elif op == "Add" and not any(i in consts for i in node.input):
                step = _Step("Add", list(node.input), node.output[0])
            elif op == "Resize":
                step = _Step(
                    op, [node.input[0]], node.output[0], {"scale": self._scale(node, attrs, consts)}
                )
            else:
                fn = _elementwise(node, consts)
                if fn is None:
                    raise UnsupportedGraph(f"{self.path.name}: {op} is not run in rows")
                source = next(i for i in node.input if i not in consts)
                owner = producer.get(source)
                if owner is not None and owner.output == source and readers[source] == 1:
                    owner.then.append(fn)  # applied to each chunk as it is made
                    owner.output = node.output[0]
                    producer[owner.output] = owner
                    continue
                step = _Step("Map", [source], node.output[0])
                step.then.append(fn)
            for name in step.inputs:
                if name in consts or name in pads:
                    raise UnsupportedGraph(f"{self.path.name}: {op} reads a constant or a pad")
            steps.append(step)
            producer[step.output] = step
        if pads:
            raise UnsupportedGraph(f"{self.path.name}: a Pad that no convolution reads")
        made = {self._input} | {step.output for step in steps}
        for step in steps:  # e.g. a Dropout's mask, or a norm's training statistics
            if not made.issuperset(step.inputs):
                raise UnsupportedGraph(f"{self.path.name}: {step.op} reads an output not run")
        if self._output not in made:
            raise UnsupportedGraph(f"{self.path.name}: the output is not made by the graph")
        self._defer(steps)
        return steps

    def _pad(
        self,
        node: Any,
        attrs: dict[str, Any],
        consts: dict[str, np.ndarray],
        readers: dict[str, int],
    ) -> tuple[str, tuple[int, int, int, int], str]:
        mode = attrs.get("mode", "constant")
        amounts = consts.get(node.input[1]) if len(node.input) > 1 else None
        value = consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else 0.0
        if (
            amounts is None
            or amounts.shape != (8,)
            or len(node.input) > 3
            or readers.get(node.output[0]) != 1
            or mode not in ("constant", "reflect", "edge")
            or (value is None or float(np.asarray(value)) != 0.0)
            or any(int(amounts[i]) for i in (0, 1, 4, 5))
            or (amounts < 0).any()
        ):
            raise UnsupportedGraph(
                f"{self.path.name}: a Pad this engine cannot fold into its convolution"
            )
        top, left, bottom, right = (int(amounts[i]) for i in (2, 3, 6, 7))
        return node.input[0], (top, left, bottom, right), mode

    def _weighted(
        self,
        node: Any,
        attrs: dict[str, Any],
        consts: dict[str, np.ndarray],
        pads: dict[str, tuple[str, tuple[int, int, int, int], str]],
    ) -> _Step:
        op = node.op_type
        weight = consts.get(node.input[1])
        if weight is None or weight.ndim != 4 or attrs.get("auto_pad", "NOTSET") != "NOTSET":
            raise UnsupportedGraph(f"{self.path.name}: a {op} that is not a plain 2-D one")
        if len(node.input) > 2 and node.input[2] and node.input[2] not in consts:
            raise UnsupportedGraph(f"{self.path.name}: a {op} with a computed bias")
        kernel = weight.shape[2:]
        strides = tuple(attrs.get("strides", (1, 1)))
        dilations = tuple(attrs.get("dilations", (1, 1)))
        own = tuple(attrs.get("pads", (0, 0, 0, 0)))
        output_padding = tuple(attrs.get("output_padding", (0, 0)))
        source, mode = node.input[0], "constant"
        outer = (0, 0, 0, 0)
        if source in pads:
            if op == "ConvTranspose":  # its pads crop its output; a Pad widens its input
                raise UnsupportedGraph(f"{self.path.name}: a Pad before a ConvTranspose")
            source, outer, mode = pads.pop(source)
        if mode != "constant" and any(own):
            raise UnsupportedGraph(f"{self.path.name}: a {op} padded twice")
        top, left, bottom, right = (a + b for a, b in zip(own, outer, strict=True))
        group = attrs.get("group", 1)
        session_attrs: dict[str, Any] = {"group": group}
        if op == "Conv":
            channels = weight.shape[0]
            session_attrs["kernel_shape"] = list(kernel)
            session_attrs["strides"] = list(strides)
            session_attrs["dilations"] = list(dilations)
            session_attrs["pads"] = [0, left, 0, right] if mode == "constant" else [0, 0, 0, 0]
        else:  # the phases' sessions are made from the geometry (:func:`_phase_sessions`)
            if "output_shape" in attrs or dilations != (1, 1):
                raise UnsupportedGraph(
                    f"{self.path.name}: a ConvTranspose of a form not run in rows"
                )
            channels = weight.shape[1] * group
        step = _Step(op, [source], node.output[0])
        taps = weight.shape[0] * kernel[0] * kernel[1]
        shift_add = (
            op == "Conv"
            and group == 1
            and strides == (1, 1)
            and dilations == (1, 1)
            and taps <= SHIFT_ADD_MAX
        )
        step.attrs = {
            "kernel": kernel,
            "strides": strides,
            "dilations": dilations,
            "pads": (top, left, bottom, right),
            "mode": mode,
            "channels": channels,
            "output_padding": output_padding,
            "bias": consts[node.input[2]].astype(np.float32)
            if len(node.input) > 2 and node.input[2]
            else None,
        }
        if shift_add:  # rows of (output channel, tap), each a weighted sum of input channels
            step.attrs["taps"] = np.ascontiguousarray(
                weight.transpose(0, 2, 3, 1).reshape(taps, -1), np.float32
            )
        else:  # made at the first run (:meth:`prepare`): planning alone holds no weights
            self._pending.append((step, list(node.input[1:]), session_attrs))
        return step

    def _scale(self, node: Any, attrs: dict[str, Any], consts: dict[str, np.ndarray]) -> int:
        """The factor of a nearest-neighbour upsampling by a whole number (each output row
        and column reading input ``o // factor``), or :class:`UnsupportedGraph`."""
        scales = consts.get(node.input[2]) if len(node.input) > 2 else None
        nearest = attrs.get("mode", "nearest") == "nearest"
        where = attrs.get("coordinate_transformation_mode", "half_pixel")
        rounding = attrs.get("nearest_mode", "round_prefer_floor")
        # With a whole-number factor, half-pixel centres round to o // factor too.
        floors = (where == "asymmetric" and rounding == "floor") or (
            where in ("half_pixel", "pytorch_half_pixel") and rounding.startswith("round")
        )
        if (
            scales is not None
            and scales.shape == (4,)
            and nearest
            and floors
            and not any(i and i not in consts for i in node.input[1:])
            and (len(node.input) < 4 or not node.input[3])
            and list(scales[:2]) == [1, 1]
            and scales[2] == scales[3] == int(scales[2]) >= 1
        ):
            return int(scales[2])
        raise UnsupportedGraph(f"{self.path.name}: a Resize other than nearest by a whole factor")

    # -- running ----------------------------------------------------------------------------

    def _image(self, image: np.ndarray) -> np.ndarray:
        values = {self._input: _Rows.of(image)}
        left = dict(self._readers)  # the input and output count one reader more: kept
        for step in self._steps:
            args = [values[name] for name in step.inputs]
            last = [left[name] == 1 for name in step.inputs]
            try:
                values[step.output] = _RUN[step.op](step, args, last)
            except ModelError:
                raise
            except Exception as exc:
                raise ModelError(
                    f"model {self.path.name} failed on input {image.shape}: {exc}"
                ) from exc
            for name in step.inputs:
                left[name] -= 1
                if left[name] == 0:
                    del values[name]
        return values[self._output].whole()


def _then(step: _Step, chunk: np.ndarray) -> np.ndarray:
    for fn in step.then:
        fn(chunk)
    return chunk


def _suffix_min(values: list[int]) -> list[int]:
    out = list(values)
    for i in range(len(out) - 2, -1, -1):
        out[i] = min(out[i], out[i + 1])
    return out


def _conv_shape(a: dict[str, Any], height: int, width: int) -> tuple[int, int]:
    (kh, kw), (sh, sw), (dh, dw) = a["kernel"], a["strides"], a["dilations"]
    top, left, bottom, right = a["pads"]
    out_h = (height + top + bottom - dh * (kh - 1) - 1) // sh + 1
    return out_h, (width + left + right - dw * (kw - 1) - 1) // sw + 1


def _conv_transpose_shape(a: dict[str, Any], height: int, width: int) -> tuple[int, int]:
    (kh, kw), (sh, sw) = a["kernel"], a["strides"]
    top, left, bottom, right = a["pads"]
    ph, pw = a["output_padding"]
    return (height - 1) * sh + kh - top - bottom + ph, (width - 1) * sw + kw - left - right + pw


def _conv(step: _Step, args: list[_Rows], last: list[bool]) -> _Rows:
    return _made(step, *_conv_maker(step, args[0]), last[0])


def _conv_transpose(step: _Step, args: list[_Rows], last: list[bool]) -> _Rows:
    return _made(step, *_conv_transpose_maker(step, args[0]), last[0])


def _made(step: _Step, out: _Rows, make: _Make, free: bool) -> _Rows:
    """``out`` made chunk by chunk now, or left to the normalisation that reads it."""
    if step.attrs.get("deferred"):
        out.deferred = (make, free)
    else:
        out.chunks = [make(i, free) for i in range(out.count)]
    return out


def _conv_maker(step: _Step, x: _Rows) -> tuple[_Rows, _Make]:
    a = step.attrs
    _, height, width = x.shape
    (kh, kw), (sh, _), (dh, _) = a["kernel"], a["strides"], a["dilations"]
    top, left, bottom, right = a["pads"]
    span_h = dh * (kh - 1) + 1
    out_h, out_w = _conv_shape(a, height, width)
    if out_h < 1 or out_w < 1:
        raise ModelError(f"input {height}×{width} is too small for a {kh}×{kw} convolution")
    if a["mode"] == "reflect" and (max(top, bottom) >= height or max(left, right) >= width):
        raise ModelError(f"input {height}×{width} is too small to reflect-pad by {max(a['pads'])}")
    out = _Rows(a["channels"], out_h, out_w)
    # Each output chunk is made in bands whose input (and, for a shifted sum, the taps'
    # images) stays within a chunk's size too.
    rows = _rows_within(x.shape[0] * width * sh)
    if "taps" in a:
        rows = min(rows, _rows_within(a["taps"].shape[0] * (width + left + right)))
    bands = [(lo, min(lo + rows, c1)) for c0, c1 in out.bands() for lo in range(c0, c1, rows)]
    needed = [
        _reflect(np.arange(o0 * sh - top, (o1 - 1) * sh - top + span_h), height, a["mode"])
        for o0, o1 in bands
    ]
    lowest = _suffix_min([int(index.min()) for index, _ in needed])
    shift_add = "taps" in a
    # ONNX Runtime pads zeros at the sides itself; reflections, and shifted sums, need them here.
    sides = (left, right) if shift_add or a["mode"] != "constant" else (0, 0)
    first_band = [k for k, (o0, _) in enumerate(bands) if o0 % out.step == 0] + [len(bands)]

    bands_in, products, outputs = _Scratch(), _Scratch(), _Scratch()
    chunks = out.bands()

    def make(i: int, free: bool) -> np.ndarray:
        c0, c1 = chunks[i]
        y = np.empty((a["channels"], c1 - c0, out_w), np.float32)
        whole = first_band[i + 1] - first_band[i] == 1  # the session can write y itself
        for k in range(first_band[i], first_band[i + 1]):
            (o0, o1), (index, inside) = bands[k], needed[k]
            band = x.band(index, sides[0], sides[1], a["mode"], bands_in)
            if inside is not None:
                band[:, ~inside] = 0
            target = y[:, o0 - c0 : o1 - c0]
            if shift_add:
                _shift_add(band, a, products, target)
            else:
                part = y if whole else outputs.take(*target.shape)
                _run_into(step.session, band, part, k + 1 == len(bands))
                if not whole:
                    target[...] = part
            if free and k + 1 < len(bands):
                x.free_below(lowest[k + 1])
        return _then(step, y)

    return out, make


def _shift_add(band: np.ndarray, a: dict[str, Any], scratch: _Scratch, out: np.ndarray) -> None:
    """A stride-1 convolution of a padded band into ``out``, as one matrix product, every
    (output channel, tap) pair an image (in ``scratch``), then each output channel the sum
    of its taps' images, shifted."""
    channels, rows, cols = band.shape
    kh, kw = a["kernel"]
    out_h, out_w = rows - kh + 1, cols - kw + 1
    product = scratch.take(len(a["taps"]), rows * cols)
    np.matmul(a["taps"], band.reshape(channels, rows * cols), out=product)
    taps = product.reshape(a["channels"], kh, kw, rows, cols)
    out[...] = 0 if a["bias"] is None else a["bias"][:, None, None]
    for dy in range(kh):
        for dx in range(kw):
            out += taps[:, dy, dx, dy : dy + out_h, dx : dx + out_w]


def _conv_transpose_maker(step: _Step, x: _Rows) -> tuple[_Rows, _Make]:
    """A transposed convolution as ``strides`` sub-pixel convolutions per axis: output rows
    (columns) of one phase modulo the stride each read the input through the kernel taps of
    that phase, so each phase is an ordinary convolution (:func:`_phase_kernel`), and its
    output is laid into every stride-th row and column. ONNX Runtime's own ConvTranspose
    ran a ResNet-9's at 23–69 GFLOP/s here, ordinary convolutions at about 190."""
    a = step.attrs
    _, height, width = x.shape
    kh, (sh, sw), top = a["kernel"][0], a["strides"], a["pads"][0]
    out_h, out_w = _conv_transpose_shape(a, height, width)
    if out_h < 1 or out_w < 1:
        raise ModelError(f"input {height}×{width} gives an empty transposed convolution")
    out = _Rows(a["channels"], out_h, out_w)
    bands = out.bands()
    firsts = [max(0, -(-(o0 + top - kh + 1) // sh)) for o0, _ in bands]
    lowest = _suffix_min(firsts)
    bias = np.zeros(a["channels"], np.float32) if a["bias"] is None else a["bias"]
    # Per column phase with outputs: its first one, the input columns it reads, and whether
    # it runs (one with no kernel column or no input column, only padding, is the bias).
    columns = []
    for rc, first, q_first, taps, past in _phase_columns(a):
        start, end = max(0, q_first - taps + 1), width + min(0, past)
        if width + past - q_first > 0:
            columns.append((rc, first, start, end, taps > 0 and end > start))
    bands_in, sides_in, phases_out = _Scratch(), _Scratch(), _Scratch()

    def make(k: int, free: bool) -> np.ndarray:
        o0, o1 = bands[k]
        y = np.empty((a["channels"], o1 - o0, out_w), np.float32)
        # (phase, its first output row, its kernel rows): those with no row in this band skip
        phases = [(r, o0 + (r - top - o0) % sh, len(range(r, kh, sh))) for r in range(sh)]
        phases = [phase for phase in phases if phase[1] < o1]
        runs = [(r, rc) for r, _, taps in phases if taps for rc, *_, run in columns if run]
        for r, first, taps in phases:
            rows = slice(first - o0, None, sh)
            if taps == 0:  # no kernel row lands here: the bias alone
                y[:, rows] = bias[:, None, None]
                continue
            q0 = (first + top - r) // sh
            index, inside = _reflect(
                np.arange(q0 - taps + 1, q0 + len(range(first, o1, sh))), height, "constant"
            )
            band = x.band(index, scratch=bands_in)
            if inside is not None:
                band[:, ~inside] = 0
            for rc, c_first, start, end, run in columns:
                target = y[:, rows, c_first::sw]
                if not run:
                    target[...] = bias[:, None, None]
                    continue
                part = band
                if (start, end) != (0, width):
                    part = sides_in.take(band.shape[0], band.shape[1], end - start)
                    np.copyto(part, band[:, :, start:end])
                last = k + 1 == len(bands) and (r, rc) == runs[-1]
                out = phases_out.take(*target.shape)
                target[...] = _run_into(step.phases[r, rc], part, out, last)
        if free and k + 1 < len(bands):
            x.free_below(lowest[k + 1])
        return _then(step, y)

    return out, make


def _run_into(session: Any, band: np.ndarray, out: np.ndarray, last: bool) -> np.ndarray:
    """``session`` run on ``band`` (C, h, w), its output written into ``out``; ``last``: the
    step's last run, after which the shared arena is emptied."""
    binding = session.io_binding()
    binding.bind_cpu_input("x", band[None])
    binding.bind_output("y", "cpu", 0, np.float32, (1, *out.shape), out.ctypes.data)
    session.run_with_iobinding(binding, _shrink if last else None)
    return out


def _phase_columns(a: dict[str, Any]) -> list[tuple[int, int, int, int, int]]:
    """Per column phase ``rc`` of a transposed convolution: its first output column, the
    input column q that one reads through its first tap, its taps, and how many columns it
    reads past the input's last one (its output columns run from q to W - 1 + that)."""
    kw, sw, left = a["kernel"][1], a["strides"][1], a["pads"][1]
    phases = []
    for rc in range(sw):
        first = (rc - left) % sw
        past = (kw - 1 - a["pads"][3] + a["output_padding"][1] - rc) // sw
        phases.append((rc, first, (first + left - rc) // sw, len(range(rc, kw, sw)), past))
    return phases


def _phase_sessions(
    step: _Step, weights: Sequence[np.ndarray | None], group: int, threads: int | None
) -> dict[tuple[int, int], Any]:
    """A Conv session per phase of a transposed convolution with kernel taps (see
    :func:`_conv_transpose_maker`)."""
    a = step.attrs
    kernel, bias = weights[0], weights[1] if len(weights) > 1 else None
    assert kernel is not None
    sessions = {}
    for r in range(a["strides"][0]):
        rows = len(range(r, a["kernel"][0], a["strides"][0]))
        for rc, _, q_first, taps, past in _phase_columns(a):
            if rows and taps:
                attrs = {
                    "kernel_shape": [rows, taps],
                    "group": group,
                    "pads": [0, max(0, taps - 1 - q_first), 0, max(0, past)],
                }
                phase = _phase_kernel(kernel, group, r, rc, a["strides"])
                sessions[r, rc] = _session([phase, bias], attrs, threads)
    return sessions


def _phase_kernel(
    weight: np.ndarray, group: int, r: int, rc: int, s: tuple[int, int]
) -> np.ndarray:
    """The ordinary convolution kernel (C_out, C_in / group, ·, ·) that makes a transposed
    convolution's outputs of row phase ``r`` and column phase ``rc`` (strides ``s``): the
    taps of those phases, flipped (output q reads input q - j through tap r + j·s)."""
    c_in, per_group, kh, kw = weight.shape
    forward = (
        weight.reshape(group, c_in // group, per_group, kh, kw)
        .transpose(0, 2, 1, 3, 4)
        .reshape(group * per_group, c_in // group, kh, kw)
    )
    return np.ascontiguousarray(forward[:, :, r :: s[0]][:, :, ::-1, rc :: s[1]][..., ::-1])


def _resize(step: _Step, args: list[_Rows], last: list[bool]) -> _Rows:
    (x,), factor = args, step.attrs["scale"]
    channels, height, width = x.shape
    out = _Rows(channels, height * factor, width * factor)
    bands = out.bands()
    for k, (o0, o1) in enumerate(bands):
        first = o0 // factor
        band = x.band(np.arange(first, (o1 - 1) // factor + 1))
        rows = np.repeat(band, factor, axis=1)[:, o0 - first * factor : o1 - first * factor]
        out.chunks.append(_then(step, np.repeat(rows, factor, axis=2)))
        if last[0] and k + 1 < len(bands):
            x.free_below(bands[k + 1][0] // factor)
    return out


def _instance_norm(step: _Step, args: list[_Rows], last: list[bool]) -> _Rows:
    (x,) = args
    if x.deferred is not None:  # made twice: once for the statistics, then to normalise
        make, free = x.deferred
        normalise = _normaliser(step, (make(i, False) for i in range(x.count)))
        out = _Rows(*x.shape)
        out.produce = lambda i: normalise(make(i, free))
        return out
    if not last[0]:
        x = _copy(x)
    normalise = _normaliser(step, x.every())
    for chunk in x.every():
        normalise(chunk)
    return x


def _normaliser(step: _Step, chunks: Iterable[np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """A function normalising a chunk in place with the statistics of all ``chunks``."""
    a = step.attrs
    shift: np.ndarray | None = None
    total = squares = np.zeros(0)  # float64 across chunks; within one, float32 as ORT sums
    count, scratch = 0, _Scratch()
    for chunk in chunks:
        if shift is None:  # sums around a first guess of the mean lose no precision
            shift = chunk.mean(axis=(1, 2)).astype(np.float32)[:, None, None]
            total, squares = np.zeros(len(chunk)), np.zeros(len(chunk))
        d = np.subtract(chunk, shift, out=scratch.take(*chunk.shape))
        total += d.sum(axis=(1, 2))
        np.square(d, out=d)
        squares += d.sum(axis=(1, 2))
        count += chunk.shape[1] * chunk.shape[2]
    assert shift is not None
    offset = total / count
    variance = np.maximum(squares / count - offset * offset, 0.0)
    mean = (shift[:, 0, 0] + offset).astype(np.float32)[:, None, None]
    factor = (a["scale"] / np.sqrt(variance + a["epsilon"])).astype(np.float32)[:, None, None]
    bias = a["bias"][:, None, None] if a["bias"].any() else None

    def normalise(chunk: np.ndarray) -> np.ndarray:
        chunk -= mean
        chunk *= factor
        if bias is not None:
            chunk += bias
        return _then(step, chunk)

    return normalise


def _add(step: _Step, args: list[_Rows], last: list[bool]) -> _Rows:
    p, q = args
    if p.shape != q.shape:
        raise ModelError(f"adding {p.shape} to {q.shape}: shapes differ")
    if last[0]:
        target, other, spent = p, q, last[1]
    elif last[1]:
        target, other, spent = q, p, False
    else:
        target, other, spent = _copy(p), q, False
    for i, chunk in enumerate(target.every()):
        chunk += other.chunk(i)
        _then(step, chunk)
        if spent:
            other.chunks[i] = None
    return target


def _map(step: _Step, args: list[_Rows], last: list[bool]) -> _Rows:
    x = args[0] if last[0] else _copy(args[0])
    for chunk in x.every():
        _then(step, chunk)
    return x


def _copy(x: _Rows) -> _Rows:
    rows = _Rows(*x.shape)
    rows.chunks = [c.copy() for c in x.every()]
    return rows


_RUN: dict[str, Callable[[_Step, list[_Rows], list[bool]], _Rows]] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "InstanceNormalization": _instance_norm,
    "Add": _add,
    "Resize": _resize,
    "Map": _map,
}


#: A whole-image engine's peak above its resting size during one run, in multiples of the
#: model's largest activation: measured with a CycleGAN ResNet-9 at 1024² in fp32 (AMD
#: EPYC, AVX-512): OpenVINO 665 MB and ONNX Runtime 1113 MB, against 256 MB for that
#: activation. This engine needed 176 MB (0.7×).
WHOLE_PEAK = {"openvino": 2.6, "onnxruntime": 4.3}
#: Inputs with fewer pixels (for a 256 MB budget; in proportion to others) never load the
#: row engine: even a model with 167 fp32 channels at full resolution fits there.
MIN_PIXELS = 384 * 384


class BoundedEngine:
    """A whole-image engine whose inputs too large for ``budget`` bytes run in rows.

    The run's peak is estimated as ``peak`` × the model's largest activation for that input
    (:data:`WHOLE_PEAK`). The :class:`RowsEngine` is loaded at the first input that might
    need it, and only once; a model it cannot run stays on the whole-image engine.
    """

    def __init__(
        self, whole: Engine, path: Path, *, budget: int, peak: float, threads: int | None = None
    ) -> None:
        self.whole = whole
        self.path = path
        self.budget = budget
        self.peak = peak
        self._threads = threads
        self._rows: RowsEngine | None = None
        self._unsupported = False
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.whole.name

    @property
    def accepts_batches(self) -> bool:
        return self.whole.accepts_batches

    def run(self, batch: np.ndarray) -> np.ndarray:
        rows = self.rows_for(batch.shape)
        if rows is not None:
            try:
                rows.prepare()
            except Exception as exc:  # the file went away, /tmp is read-only …
                self._give_up(exc)
                rows = None
        if rows is None:
            return self.whole.run(batch)
        release_idle()  # an idle OpenVINO engine's activations go before this run's grow
        return rows.run(batch)

    def rows_for(self, shape: tuple[int, ...]) -> RowsEngine | None:
        """The row engine if an input of ``shape`` (N, C, H, W) would exceed the budget."""
        small = MIN_PIXELS * self.budget / (256 << 20)  # never over budget at the default
        if len(shape) != 4 or shape[2] * shape[3] < small or self._unsupported:
            return None
        rows = self._rows or self._load()
        if rows is None or self.peak * shape[0] * rows.largest(shape[2], shape[3]) <= self.budget:
            return None
        return rows

    def _load(self) -> RowsEngine | None:
        with self._lock:
            if self._rows is None and not self._unsupported:
                try:
                    self._rows = RowsEngine(self.path, threads=self._threads)
                except UnsupportedGraph as exc:
                    log.info("%s runs whole-image only: %s", self.path.name, exc)
                    self._unsupported = True
                except Exception as exc:
                    self._give_up(exc)
            return self._rows

    def _give_up(self, exc: BaseException) -> None:
        log.warning("%s: bands of rows failed, photos run whole: %s", self.path.name, exc)
        self._unsupported = True

    def __repr__(self) -> str:
        return f"BoundedEngine({self.whole!r}, budget={self.budget >> 20} MB)"


def unbounded(engine: Engine) -> Engine:
    """The whole-image engine inside a :class:`BoundedEngine`, else ``engine`` itself."""
    return engine.whole if isinstance(engine, BoundedEngine) else engine
