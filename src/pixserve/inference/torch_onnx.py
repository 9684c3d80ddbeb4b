"""``TorchEngine``: runs an ONNX model's graph with PyTorch, on a CUDA GPU (or the CPU).

For GPU machines that have PyTorch with CUDA (what ``pixserve[train]`` installs there) but
not ``onnxruntime-gpu`` and the CUDA libraries of its exact build. The graph is walked node
by node: float tensors are torch tensors on the device in the engine's precision (fp32,
bf16, fp16), and the integer tensors of shape arithmetic (``Shape``, ``Gather``,
``Concat`` of sizes…) stay numpy arrays on the host, so computing a padding never waits
for the GPU. The operators are those pixserve's exported generators and upscalers use,
with ONNX's semantics; a model using any other is refused when loaded (``BundleError``), and
the engine cache runs it elsewhere.

Imported only where chosen: a server without a GPU never loads torch.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pixserve.core.errors import BundleError, ModelError
from pixserve.inference.spec import Device, EngineSpec, Precision, Runtime

#: Either kind of value a node reads or writes.
Value = Any  # torch.Tensor (float data) | np.ndarray (integers, constants)


@functools.cache
def cuda_available() -> bool:
    """Whether PyTorch sees a CUDA GPU. Without an NVIDIA driver on the machine the answer
    is no, found without importing torch (hundreds of MB resident)."""
    if not Path("/proc/driver/nvidia/version").exists():
        return False
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


class TorchEngine:
    """Runs one ``.onnx`` file with PyTorch. Thread-safe: runs hold no shared state."""

    def __init__(self, path: Path | str, spec: EngineSpec, *, channels_last: bool = False) -> None:
        """``channels_last`` keeps images and convolution weights in NHWC order, the one
        GPUs' tensor cores read fastest (to be measured: ``benchmarks/gpu_torch_engine.py``
        times both); the results are the same."""
        import onnx
        import torch
        from onnx import numpy_helper

        if spec.runtime is not Runtime.TORCH:
            raise ValueError(f"TorchEngine runs torch/…, not {spec}")
        if spec.device is Device.CPU and spec.precision is Precision.FP16:
            raise ValueError("torch runs fp16 on a GPU only")
        self.path, self.spec = Path(path), spec
        if not self.path.is_file():
            raise BundleError(f"{self.path}: model file not found")
        try:
            model = onnx.load(str(self.path))
        except Exception as exc:
            raise BundleError(f"{self.path}: not a readable ONNX model: {exc}") from exc
        graph = model.graph
        initialised = {init.name for init in graph.initializer}
        inputs = [value for value in graph.input if value.name not in initialised]
        if len(inputs) != 1:
            raise BundleError(f"{self.path}: the model must have exactly one input")
        missing = sorted({node.op_type for node in graph.node} - set(_OPS))
        if missing:
            raise BundleError(
                f"{self.path}: the torch engine cannot run operator(s) {', '.join(missing)}"
            )
        self._torch = torch
        self._device = torch.device("cuda" if spec.device is Device.CUDA else "cpu")
        self._dtype = {
            Precision.FP32: torch.float32,
            Precision.BF16: torch.bfloat16,
            Precision.FP16: torch.float16,
        }[spec.precision]
        if spec.threads and spec.device is Device.CPU:
            torch.set_num_threads(spec.threads)
        dim = inputs[0].type.tensor_type.shape.dim
        self._accepts_batches = not dim or not dim[0].HasField("dim_value")
        self._input = inputs[0].name
        self._output = graph.output[0].name
        self._layout = torch.channels_last if channels_last else torch.contiguous_format
        self._weights = {
            init.name: self._value(numpy_helper.to_array(init)) for init in graph.initializer
        }
        for name, weight in self._weights.items():
            if not isinstance(weight, np.ndarray) and weight.dim() == 4:
                self._weights[name] = weight.contiguous(memory_format=self._layout)
        self._nodes = [
            (node.op_type, list(node.input), list(node.output), _attributes(node))
            for node in graph.node
        ]
        # After a node, the values no later node reads: dropped, so a run holds only what
        # it still needs (a generator's activations at full size are hundreds of MB).
        last: dict[str, int] = {}
        for i, (_, names, _, _) in enumerate(self._nodes):
            for name in names:
                last[name] = i
        self._dead = [
            [name for name in names if last.get(name) == i and name != self._output]
            for i, (_, names, _, _) in enumerate(self._nodes)
        ]

    @property
    def name(self) -> str:
        return str(self.spec)

    @property
    def accepts_batches(self) -> bool:
        return self._accepts_batches

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on ``batch`` and return its first output as float32."""
        torch = self._torch
        env: dict[str, Value] = dict(self._weights)
        try:
            with torch.inference_mode():
                x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
                x = x.to(self._device, self._dtype)
                env[self._input] = x.contiguous(memory_format=self._layout) if x.dim() == 4 else x
                for (op, names, outputs, attrs), dead in zip(self._nodes, self._dead, strict=True):
                    args = [env[name] if name else None for name in names]
                    try:
                        results = _OPS[op](self, attrs, *args)
                    except Exception as exc:
                        raise ModelError(f"{op} {outputs[0]!r}: {exc}") from exc
                    if len(outputs) == 1:
                        results = (results,)
                    for name, result in zip(outputs, results, strict=False):
                        env[name] = result
                    for name in dead:
                        if name not in self._weights:
                            env.pop(name, None)
                out = env[self._output]
                if isinstance(out, np.ndarray):
                    return out.astype(np.float32)
                return out.float().contiguous().cpu().numpy()
        except Exception as exc:
            raise ModelError(
                f"model {self.path.name} failed on input {tuple(batch.shape)}: {exc}"
            ) from exc

    # --- values ---

    def _value(self, array: np.ndarray) -> Value:
        """A weight or constant: floats on the device in the engine's precision, integers
        (shapes, axes, pads) as numpy."""
        return self.tensor(array) if array.dtype.kind == "f" and array.ndim > 0 else array

    def tensor(self, value: Value) -> Any:
        """``value`` as a torch tensor on the device (numpy floats in the engine's
        precision, numpy integers as they are)."""
        if isinstance(value, np.ndarray):
            tensor = self._torch.from_numpy(np.array(value))  # a copy torch may write to
            dtype = self._dtype if value.dtype.kind == "f" else None
            return tensor.to(self._device, dtype)
        return value

    def __repr__(self) -> str:
        return f"TorchEngine({str(self.path)!r}, {self.spec})"


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper, numpy_helper

    attrs = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode()
        elif hasattr(value, "data_type"):  # a TensorProto
            value = numpy_helper.to_array(value)
        attrs[attr.name] = value
    return attrs


def _numbers(value: Value) -> np.ndarray:
    """A small operand (sizes, scales, a bound) as a flat numpy array, wherever it lives."""
    if isinstance(value, np.ndarray):
        return value.reshape(-1)
    return np.asarray(value.float().cpu().numpy()).reshape(-1)


def _ints(value: Value) -> list[int]:
    return [int(v) for v in _numbers(value)]


def _host(*values: Value) -> bool:
    return all(v is None or isinstance(v, np.ndarray) for v in values)


# --- operators: each takes (engine, attributes, *inputs) and returns its output(s) ---

Op = Callable[..., Value]


def _elementwise(numpy_fn: Callable[..., Any], torch_name: str) -> Op:
    def op(e: TorchEngine, a: dict[str, Any], *xs: Value) -> Value:
        if _host(*xs):
            return np.asarray(numpy_fn(*xs))
        torch_fn = getattr(e._torch, torch_name)
        return torch_fn(*(e.tensor(x) for x in xs))

    return op


def _unary(name: str) -> Op:
    def op(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
        return getattr(e._torch, name)(e.tensor(x))

    return op


def _conv(e: TorchEngine, a: dict[str, Any], x: Value, w: Value, b: Value = None) -> Value:
    functional = e._torch.nn.functional
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise ModelError(f"Conv auto_pad={a['auto_pad']} is not supported")
    spatial = w.dim() - 2
    pads = a.get("pads", [0] * 2 * spatial)
    begin, end = pads[:spatial], pads[spatial:]
    if begin != end:
        x = functional.pad(
            x, [p for pair in zip(begin[::-1], end[::-1], strict=True) for p in pair]
        )
        begin = [0] * spatial
    conv = functional.conv2d if spatial == 2 else functional.conv1d
    return conv(
        x,
        w,
        b,
        stride=a.get("strides", [1] * spatial),
        padding=begin,
        dilation=a.get("dilations", [1] * spatial),
        groups=a.get("group", 1),
    )


def _conv_transpose(
    e: TorchEngine, a: dict[str, Any], x: Value, w: Value, b: Value = None
) -> Value:
    functional = e._torch.nn.functional
    if "output_shape" in a or a.get("auto_pad", "NOTSET") != "NOTSET":
        raise ModelError("ConvTranspose with output_shape or auto_pad is not supported")
    pads = a.get("pads", [0, 0, 0, 0])
    begin, end = pads[:2], pads[2:]
    extra = a.get("output_padding", [0, 0])
    out = functional.conv_transpose2d(
        x,
        w,
        b,
        stride=a.get("strides", [1, 1]),
        padding=0,
        output_padding=extra,
        groups=a.get("group", 1),
        dilation=a.get("dilations", [1, 1]),
    )
    h, wd = out.shape[-2:]
    return out[..., begin[0] : h - end[0], begin[1] : wd - end[1]]


def _instance_norm(e: TorchEngine, a: dict[str, Any], x: Value, scale: Value, bias: Value) -> Value:
    functional = e._torch.nn.functional
    return functional.instance_norm(x, weight=scale, bias=bias, eps=a.get("epsilon", 1e-5))


def _batch_norm(
    e: TorchEngine, a: dict[str, Any], x: Value, scale: Value, bias: Value, mean: Value, var: Value
) -> Value:
    functional = e._torch.nn.functional
    return functional.batch_norm(
        x, mean, var, scale, bias, training=False, eps=a.get("epsilon", 1e-5)
    )


def _pad(
    e: TorchEngine,
    a: dict[str, Any],
    x: Value,
    pads: Value = None,
    constant: Value = None,
    axes: Value = None,
) -> Value:
    rank = x.dim()
    amounts = _ints(pads) if pads is not None else list(a.get("pads", []))
    if axes is not None:
        full = [0] * 2 * rank
        chosen = [int(i) % rank for i in _ints(axes)]
        for k, axis in enumerate(chosen):
            full[axis], full[rank + axis] = amounts[k], amounts[len(chosen) + k]
        amounts = full
    begin, end = amounts[:rank], amounts[rank:]
    mode = a.get("mode", "constant")
    torch_pads = [p for axis in reversed(range(rank)) for p in (begin[axis], end[axis])]
    while len(torch_pads) > 4 and torch_pads[-2:] == [0, 0]:  # untouched leading axes
        torch_pads = torch_pads[:-2]
    functional = e._torch.nn.functional
    if mode == "constant":
        fill = 0.0 if constant is None else float(_numbers(constant)[0])
        return functional.pad(x, torch_pads, mode="constant", value=fill)
    torch_mode = {"reflect": "reflect", "edge": "replicate"}.get(mode)
    if torch_mode is None:
        raise ModelError(f"Pad mode {mode!r} is not supported")
    return functional.pad(x, torch_pads, mode=torch_mode)


def _resize(
    e: TorchEngine,
    a: dict[str, Any],
    x: Value,
    roi: Value = None,
    scales: Value = None,
    sizes: Value = None,
) -> Value:
    mode = a.get("mode", "nearest")
    transform = a.get("coordinate_transformation_mode", "half_pixel")
    h, w = x.shape[-2:]
    if sizes is not None and _numbers(sizes).size:
        out_h, out_w = _ints(sizes)[-2:]
    else:
        factors = _numbers(scales).astype(np.float64)[-2:]
        out_h, out_w = math.floor(h * factors[0]), math.floor(w * factors[1])
    functional = e._torch.nn.functional
    size = (out_h, out_w)
    if mode == "nearest":
        if transform != "asymmetric" or a.get("nearest_mode", "round_prefer_floor") != "floor":
            raise ModelError(f"Resize nearest with {transform} is not supported")
        return functional.interpolate(x, size=size, mode="nearest")
    kind = {"linear": "bilinear", "cubic": "bicubic"}.get(mode)
    if kind is None:
        raise ModelError(f"Resize mode {mode!r} is not supported")
    if mode == "cubic" and a.get("cubic_coeff_a", -0.75) != -0.75:
        raise ModelError("Resize cubic with a coefficient other than -0.75 is not supported")
    if transform in ("half_pixel", "pytorch_half_pixel"):
        return functional.interpolate(x, size=size, mode=kind, align_corners=False)
    if transform == "align_corners":
        return functional.interpolate(x, size=size, mode=kind, align_corners=True)
    raise ModelError(f"Resize {mode} with {transform} is not supported")


def _depth_to_space(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    b = a["blocksize"]
    n, c, h, w = x.shape
    if a.get("mode", "DCR") == "CRD":
        return e._torch.nn.functional.pixel_shuffle(x, b)
    y = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
    return y.reshape(n, c // (b * b), h * b, w * b)


def _reshape(e: TorchEngine, a: dict[str, Any], x: Value, shape: Value) -> Value:
    wanted = _ints(shape)
    if not a.get("allowzero", 0):
        wanted = [int(x.shape[i]) if s == 0 else s for i, s in enumerate(wanted)]
    return x.reshape(wanted)


def _transpose(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    perm = a.get("perm", list(reversed(range(x.ndim))))
    return x.transpose(perm) if isinstance(x, np.ndarray) else x.permute(perm)


def _squeeze(e: TorchEngine, a: dict[str, Any], x: Value, axes: Value = None) -> Value:
    chosen = _ints(axes) if axes is not None else a.get("axes")
    if isinstance(x, np.ndarray):
        return np.squeeze(x, axis=None if chosen is None else tuple(chosen))
    if chosen is None:
        return x.squeeze()
    for axis in sorted((i % x.dim() for i in chosen), reverse=True):
        x = x.squeeze(axis)
    return x


def _unsqueeze(e: TorchEngine, a: dict[str, Any], x: Value, axes: Value = None) -> Value:
    chosen = _ints(axes) if axes is not None else list(a["axes"])
    rank = x.ndim + len(chosen)
    for axis in sorted(i % rank for i in chosen):
        x = np.expand_dims(x, axis) if isinstance(x, np.ndarray) else x.unsqueeze(axis)
    return x


def _concat(e: TorchEngine, a: dict[str, Any], *xs: Value) -> Value:
    if _host(*xs):
        return np.concatenate([np.asarray(x) for x in xs], axis=a["axis"])
    return e._torch.cat([e.tensor(x) for x in xs], dim=a["axis"])


def _slice(
    e: TorchEngine,
    a: dict[str, Any],
    x: Value,
    starts: Value,
    ends: Value,
    axes: Value = None,
    steps: Value = None,
) -> Value:
    begin, stop = _ints(starts), _ints(ends)
    chosen = _ints(axes) if axes is not None else list(range(len(begin)))
    strides = _ints(steps) if steps is not None else [1] * len(begin)
    index: list[slice] = [slice(None)] * x.ndim
    flips = []
    for axis, start, end, step in zip(chosen, begin, stop, strides, strict=True):
        axis %= x.ndim
        length = int(x.shape[axis])
        lo, hi, st = slice(start, end, step).indices(length)
        if st < 0 and not isinstance(x, np.ndarray):
            # torch has no negative steps: take the same elements forwards, then flip
            count = len(range(lo, hi, st))
            last = lo + st * (count - 1) if count else lo
            index[axis] = slice(last, lo + 1, -st) if count else slice(0, 0)
            flips.append(axis)
        else:  # ``indices`` gives -1 for "before the first", which a slice reads as the last
            index[axis] = slice(lo, hi if hi >= 0 else None, st)
    y = x[tuple(index)]
    return y.flip(flips) if flips else y


def _shape(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    dims = np.asarray(list(x.shape), dtype=np.int64)
    return dims[a.get("start", 0) : a.get("end", len(dims))]


def _gather(e: TorchEngine, a: dict[str, Any], x: Value, indices: Value) -> Value:
    axis = a.get("axis", 0)
    if _host(x, indices):
        return np.take(x, indices, axis=axis)
    index = e.tensor(np.asarray(indices)).long()
    return e._torch.index_select(x, axis, index.reshape(-1)).reshape(
        (*x.shape[:axis], *np.asarray(indices).shape, *x.shape[axis + 1 :])
    )


def _cast(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    from onnx import helper

    dtype = helper.tensor_dtype_to_np_dtype(a["to"])
    if isinstance(x, np.ndarray):
        return x.astype(dtype)
    return x if dtype.kind == "f" else x.to(e._torch.int64)


def _constant(e: TorchEngine, a: dict[str, Any]) -> Value:
    for key in ("value", "value_float", "value_int", "value_floats", "value_ints"):
        if key in a:
            return e._value(np.asarray(a[key]))
    raise ModelError(f"Constant with {sorted(a)} is not supported")


def _constant_of_shape(e: TorchEngine, a: dict[str, Any], shape: Value) -> Value:
    fill = a.get("value", np.zeros(1, np.float32))
    return np.full(_ints(shape), np.asarray(fill).reshape(-1)[0], dtype=np.asarray(fill).dtype)


def _leaky_relu(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    return e._torch.nn.functional.leaky_relu(x, a.get("alpha", 0.01))


def _prelu(e: TorchEngine, a: dict[str, Any], x: Value, slope: Value) -> Value:
    slope = e.tensor(slope)
    return e._torch.where(x >= 0, x, x * slope)


def _clip(
    e: TorchEngine, a: dict[str, Any], x: Value, low: Value = None, high: Value = None
) -> Value:
    low_value = a.get("min") if low is None else float(_numbers(low)[0])
    high_value = a.get("max") if high is None else float(_numbers(high)[0])
    return e._torch.clamp(x, low_value, high_value)


def _reduce(numpy_fn: Callable[..., Any], torch_name: str) -> Op:
    """A Reduce* operator: axes as an attribute (before opset 18) or an input."""

    def op(e: TorchEngine, a: dict[str, Any], x: Value, axes: Value = None) -> Value:
        chosen = _ints(axes) if axes is not None else a.get("axes")
        keep = bool(a.get("keepdims", 1))
        if chosen is None or not chosen:
            if a.get("noop_with_empty_axes", 0) and axes is not None:
                return x
            chosen = list(range(x.ndim))
        if isinstance(x, np.ndarray):
            return np.asarray(numpy_fn(x, axis=tuple(chosen), keepdims=keep))
        y = x
        for axis in sorted((i % x.dim() for i in chosen), reverse=True):
            y = getattr(y, torch_name)(dim=axis, keepdim=keep)
        return y

    return op


def _gemm(e: TorchEngine, a: dict[str, Any], x: Value, w: Value, c: Value = None) -> Value:
    x = x.t() if a.get("transA", 0) else x
    w = e.tensor(w)
    w = w.t() if a.get("transB", 0) else w
    out = a.get("alpha", 1.0) * (x @ w)
    return out if c is None else out + a.get("beta", 1.0) * e.tensor(c)


def _flatten(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    axis = a.get("axis", 1) % max(x.dim(), 1)
    return x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)


def _global_average_pool(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


def _identity(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    return x


def _softmax(e: TorchEngine, a: dict[str, Any], x: Value) -> Value:
    return e._torch.softmax(x, dim=a.get("axis", -1))


_OPS: dict[str, Op] = {
    "Add": _elementwise(np.add, "add"),
    "Sub": _elementwise(np.subtract, "sub"),
    "Mul": _elementwise(np.multiply, "mul"),
    "Div": _elementwise(lambda p, q: p / q if p.dtype.kind == "f" else p // q, "div"),
    "Pow": _elementwise(np.power, "pow"),
    "Neg": _unary("neg"),
    "Sqrt": _unary("sqrt"),
    "Exp": _unary("exp"),
    "Abs": _unary("abs"),
    "Relu": _unary("relu"),
    "Tanh": _unary("tanh"),
    "Sigmoid": _unary("sigmoid"),
    "LeakyRelu": _leaky_relu,
    "PRelu": _prelu,
    "Clip": _clip,
    "Identity": _identity,
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "InstanceNormalization": _instance_norm,
    "BatchNormalization": _batch_norm,
    "Pad": _pad,
    "Resize": _resize,
    "DepthToSpace": _depth_to_space,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Concat": _concat,
    "Slice": _slice,
    "Shape": _shape,
    "Gather": _gather,
    "Cast": _cast,
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
    "ReduceMean": _reduce(np.mean, "mean"),
    "ReduceSum": _reduce(np.sum, "sum"),
    "ReduceProd": _reduce(np.prod, "prod"),
    "ReduceMax": _reduce(np.max, "amax"),
    "ReduceMin": _reduce(np.min, "amin"),
    "Min": _elementwise(np.minimum, "minimum"),
    "Max": _elementwise(np.maximum, "maximum"),
    "Floor": _unary("floor"),
    "Ceil": _unary("ceil"),
    "Reciprocal": _unary("reciprocal"),
    "Erf": _unary("erf"),
    "Gemm": _gemm,
    "MatMul": _elementwise(np.matmul, "matmul"),
    "Flatten": _flatten,
    "GlobalAveragePool": _global_average_pool,
    "Softmax": _softmax,
}
