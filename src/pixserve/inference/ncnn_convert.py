"""Convert an ncnn model (``.param`` text + ``.bin`` weights) into an ONNX model.

Covers the layers of the ncnn super-resolution releases pixserve ships as built-in
upscalers (waifu2x UpConv7, Real-ESRGAN animevideov3): ``Input``, ``Split``,
``Convolution`` (with its fused activation), ``Deconvolution``, ``PReLU``,
``PixelShuffle``, ``Interp`` and ``BinaryOp``. Anything else is a :class:`BundleError`
naming the layer. The result takes and gives float NCHW with dynamic batch, height, width.

Formats, as ncnn reads them: the ``.param`` file is ``7767517``, ``<layers> <blobs>``, then
one line per layer, ``type name n_in n_out in… out… id=value…`` where ``-233xx=n,v…`` is an
array for id ``xx``. In the ``.bin`` file, a weight tensor starts with a 4-byte tag (zero:
float32 follows; ``0x01306B47``: float16, padded to 4 bytes); biases and PReLU slopes are
raw float32 without a tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pixserve.core.errors import BundleError

MAGIC = "7767517"
FP16_TAG = 0x01306B47
OPSET = 17


@dataclass
class Layer:
    """One line of a ``.param`` file."""

    type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, list[float]] = field(default_factory=dict)

    def get(self, key: int, default: float) -> float:
        """Scalar parameter ``key`` (``default`` when absent)."""
        values = self.params.get(key)
        return values[0] if values else default

    def int(self, key: int, default: int) -> int:
        """Integer parameter ``key``."""
        return int(self.get(key, default))


def parse_param(text: str, source: str = ".param") -> list[Layer]:
    """The layers of an ncnn ``.param`` text, in file order."""
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != [MAGIC]:
        raise BundleError(f"{source}: not an ncnn .param file (no {MAGIC} magic)")
    layers = []
    for parts in lines[2:]:
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        blobs = parts[4 : 4 + n_in + n_out]
        params: dict[int, list[float]] = {}
        for item in parts[4 + n_in + n_out :]:
            key, _, value = item.partition("=")
            k = int(key)
            if k <= -23300:  # array: -23300 - id = count,v1,v2…
                values = [float(v) for v in value.split(",")]
                params[-23300 - k] = values[1 : 1 + int(values[0])]
            else:
                params[k] = [float(value)]
        layers.append(Layer(kind, name, blobs[:n_in], blobs[n_in:], params))
    return layers


class _Weights:
    """Reads the ``.bin`` file in the order the layers load from it."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.pos, self.source = data, 0, source

    def tagged(self, count: int) -> np.ndarray:
        tag = int.from_bytes(self._take(4), "little")
        if tag == FP16_TAG:
            raw = self._take(count * 2)
            self._take(-count * 2 % 4)
            return np.frombuffer(raw, np.float16).astype(np.float32)
        if tag == 0:
            return self.raw(count)
        raise BundleError(f"{self.source}: weight storage tag {tag:#x} is not supported")

    def raw(self, count: int) -> np.ndarray:
        return np.frombuffer(self._take(count * 4), np.float32).copy()

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise BundleError(f"{self.source}: ends early (needed {n} bytes at {self.pos})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def done(self) -> None:
        if self.pos != len(self.data):
            raise BundleError(f"{self.source}: {len(self.data) - self.pos} bytes left unread")


class _Graph:
    """Accumulates ONNX nodes and initializers."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))


def convert(
    param_path: Path, bin_path: Path, *, input_pad: int = 0, name: str = "ncnn"
) -> onnx.ModelProto:
    """The ONNX equivalent of the ncnn model; ``input_pad`` edge-pads the input first
    (waifu2x's UpConv7 has unpadded convolutions and expects 7 px of replicated border)."""
    layers = parse_param(param_path.read_text(encoding="utf-8"), str(param_path))
    weights = _Weights(bin_path.read_bytes(), str(bin_path))
    g = _Graph()
    alias: dict[str, str] = {}  # ncnn blob → ONNX tensor
    final = ""
    for layer in layers:
        # ncnn blob names may be "input"/"output" too: prefix them so ours stay unique.
        ins = [alias.get(b, f"blob_{b}") for b in layer.inputs]
        out = f"blob_{layer.outputs[0]}" if layer.outputs else ""
        if layer.type == "Input":
            source = "input"
            if input_pad:
                pads = g.const(f"{layer.name}_pads", np.array([0, 0, input_pad, input_pad] * 2))
                g.node("Pad", ["input", pads], ["input_padded"], mode="edge")
                source = "input_padded"
            alias[layer.outputs[0]] = source
        elif layer.type == "Split":
            for blob in layer.outputs:
                alias[blob] = ins[0]
        elif layer.type in ("Convolution", "Deconvolution"):
            _conv(g, layer, ins[0], out, weights)
        elif layer.type == "PReLU":
            slopes = weights.raw(layer.int(0, 1)).reshape(-1, 1, 1)
            g.node("PRelu", [ins[0], g.const(f"{layer.name}_slope", slopes)], [out])
        elif layer.type == "PixelShuffle":
            mode = "CRD" if layer.int(1, 0) == 0 else "DCR"
            g.node("DepthToSpace", ins, [out], blocksize=layer.int(0, 1), mode=mode)
        elif layer.type == "Interp":
            _interp(g, layer, ins[0], out)
        elif layer.type == "BinaryOp" and layer.int(0, 0) in _BINARY and not layer.int(1, 0):
            g.node(_BINARY[layer.int(0, 0)], ins, [out])
        else:
            raise BundleError(
                f"{param_path}: ncnn layer {layer.type} {layer.name!r} is not supported"
            )
        if layer.outputs:
            final = alias.get(layer.outputs[-1], f"blob_{layer.outputs[-1]}")
    weights.done()
    g.node("Identity", [final], ["output"])
    dims: list[str | int | None] = ["batch", 3, "height", "width"]
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3, "oh", "ow"])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


_BINARY = {0: "Add", 1: "Sub", 2: "Mul", 3: "Div"}


def _conv(g: _Graph, layer: Layer, x: str, out: str, weights: _Weights) -> None:
    n_out = layer.int(0, 0)
    kw = layer.int(1, 0)
    kh = layer.int(11, kw)
    dw = layer.int(2, 1)
    dh = layer.int(12, dw)
    sw = layer.int(3, 1)
    sh = layer.int(13, sw)
    left = layer.int(4, 0)
    top = layer.int(14, left)
    right = layer.int(15, left)
    bottom = layer.int(16, top)
    if min(left, top, right, bottom) < 0:
        raise BundleError(f"ncnn layer {layer.name!r}: 'same' padding is not supported")
    size = layer.int(6, 0)
    n_in = size // (n_out * kh * kw)
    w = weights.tagged(size).reshape(n_out, n_in, kh, kw)  # ncnn: (out, in, kh, kw)
    inputs = [x]
    conv_out = out if layer.int(9, 0) == 0 else f"{layer.name}_pre"
    attrs: dict[str, Any] = {
        "kernel_shape": [kh, kw],
        "strides": [sh, sw],
        "dilations": [dh, dw],
        "pads": [top, left, bottom, right],
    }
    if layer.type == "Deconvolution":
        inputs.append(g.const(f"{layer.name}_w", np.ascontiguousarray(w.transpose(1, 0, 2, 3))))
        op = "ConvTranspose"
    else:
        inputs.append(g.const(f"{layer.name}_w", w))
        op = "Conv"
    if layer.int(5, 0):
        inputs.append(g.const(f"{layer.name}_b", weights.raw(n_out)))
    g.node(op, inputs, [conv_out], **attrs)
    activation = layer.int(9, 0)
    if activation == 1:
        g.node("Relu", [conv_out], [out])
    elif activation == 2:
        g.node("LeakyRelu", [conv_out], [out], alpha=layer.params.get(10, [0.0])[0])
    elif activation != 0:
        raise BundleError(f"ncnn layer {layer.name!r}: activation type {activation} unsupported")


def _interp(g: _Graph, layer: Layer, x: str, out: str) -> None:
    kind = layer.int(0, 0)
    if layer.int(6, 0) or layer.int(3, 0) or layer.int(4, 0):
        raise BundleError(f"ncnn Interp {layer.name!r}: only scale factors are supported")
    scales = np.array([1, 1, layer.get(1, 1.0), layer.get(2, 1.0)], np.float32)
    s = g.const(f"{layer.name}_scales", scales)
    if kind == 1:  # nearest: source index floor(x / scale)
        g.node(
            "Resize",
            [x, "", s],
            [out],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
    elif kind in (2, 3):  # bilinear / bicubic (a = -0.75), pixel centres aligned
        g.node(
            "Resize",
            [x, "", s],
            [out],
            mode="linear" if kind == 2 else "cubic",
            coordinate_transformation_mode="half_pixel",
            cubic_coeff_a=-0.75,
        )
    else:
        raise BundleError(f"ncnn Interp {layer.name!r}: resize type {kind} unsupported")
