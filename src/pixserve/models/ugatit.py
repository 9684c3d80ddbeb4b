"""U-GAT-IT's generator, from the TensorFlow code's checkpoints or the PyTorch port's.

Kim, Kim, Kang, Lee, "U-GAT-IT: Unsupervised Generative Attentional Networks with Adaptive
Layer-Instance Normalization for Image-to-Image Translation", ICLR 2020.

Two checkpoint formats, one module:

- **TensorFlow** (taki0112/UGATIT; the published selfie2anime checkpoints): a
  ``tf.train.Saver`` folder (``checkpoint``, ``UGATIT.model-<step>.index``,
  ``….data-00000-of-00001``) read by :mod:`pixserve.models.tensorbundle` without
  TensorFlow. Selfie → anime (A → B) is the variable scope ``generator_B``; B → A is
  ``generator_A``. Names are looked up in the index, with the spellings the code used over
  time (``conv2d/kernel`` or ``kernel``; ``CAM_logit/dense/*`` beside ``CAM_logit/kernel``
  in the code as first published).
- **PyTorch** (znxlwm/UGATIT-pytorch): ``<dataset>_params_<step>.pt``, a dict of state
  dicts ``genA2B``, ``genB2A``, ``disGA`` …; keys are this module's own.

The two codes compute slightly different networks, and :class:`UgatitConfig` says which:

=====================  ==============================  ==========================
                        TensorFlow                      PyTorch port
=====================  ==============================  ==========================
conv biases             yes                             no (only ``conv1x1``)
instance norm           affine (``gamma``, ``beta``)    no parameters
stride-2 padding        reflect top/left only           reflect all sides
CAM weights             one ``kernel + bias`` for both  ``gap_fc``, ``gmp_fc``
MLP biases              yes                             no
full MLP flatten        H, W, C                         C, H, W
AdaLIN/ILN variance     biased                          unbiased (``torch.var``)
AdaLIN ``rho``          ``clip(rho − 0.1)`` (smoothing)  as stored
=====================  ==============================  ==========================

The flatten order and the CAM weights are converted when the TF tensors are loaded (the
dense kernel is permuted, ``kernel + bias`` is stored as both CAM weights); the rest are
config fields. The full model (the default, and the published one) flattens the
``img_size/4`` feature map into its MLP, so it takes exactly ``img_size``² inputs and its
first dense layer is ~268 M parameters at 256 px; the light one pools first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from pixserve.core.errors import CheckpointError, CheckpointMismatch
from pixserve.models.checkpoint import StateDict, load_strict, require
from pixserve.models.tensorbundle import TensorBundle

WHAT = "U-GAT-IT generator"
Direction = Literal["a2b", "b2a"]
#: The TF code's AdaLIN smoothing: rho − 0.1, clipped to 0..1 (``--smoothing``, default on).
SMOOTHING_OFFSET = 0.1
N_DOWN = 2  # stride-2 convolutions (and ×2 upsamplings): features at H/4


@dataclass
class UgatitConfig:
    """Widths, sizes and which code's arithmetic (see the module's table)."""

    ngf: int = 64
    n_blocks: int = 4
    img_size: int = 256
    light: bool = False
    source: Literal["tensorflow", "pytorch"] = "pytorch"
    #: Subtracted from AdaLIN's rho (then clipped to 0..1): the TF code's smoothing.
    rho_offset: float = 0.0

    @property
    def tf(self) -> bool:
        return self.source == "tensorflow"

    @property
    def features(self) -> int:
        return self.ngf * 2**N_DOWN

    @property
    def mlp_in(self) -> int:
        side = self.img_size // 2**N_DOWN
        return self.features if self.light else side * side * self.features


class InstanceLayerNorm(nn.Module):
    """ILN and AdaLIN: ``rho`` mixes instance and layer statistics; ``gamma``/``beta`` are
    parameters (ILN) or come from the MLP (AdaLIN)."""

    def __init__(
        self, channels: int, *, adaptive: bool, unbiased: bool, rho_offset: float = 0.0
    ) -> None:
        super().__init__()
        self.unbiased, self.rho_offset = unbiased, rho_offset
        self.rho = nn.Parameter(torch.zeros(1, channels, 1, 1))
        if not adaptive:
            self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
            self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(
        self, x: torch.Tensor, gamma: torch.Tensor | None = None, beta: torch.Tensor | None = None
    ) -> torch.Tensor:  # (N, C, H, W); gamma, beta (N, C) for AdaLIN
        x_in = _normalise(x, (2, 3), self.unbiased)
        x_ln = _normalise(x, (1, 2, 3), self.unbiased)
        rho: torch.Tensor = self.rho
        if self.rho_offset:
            rho = (rho - self.rho_offset).clamp(0.0, 1.0)
        out = rho * x_in + (1 - rho) * x_ln
        if gamma is None or beta is None:
            return out * self.gamma + self.beta
        return out * gamma[:, :, None, None] + beta[:, :, None, None]


def _normalise(x: torch.Tensor, dims: tuple[int, ...], unbiased: bool) -> torch.Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
    return (x - mean) / torch.sqrt(var + 1e-5)


class ResnetBlock(nn.Module):
    """Encoder block: x + [pad, conv3, IN, ReLU, pad, conv3, IN](x); keys ``conv_block.{1,5}``."""

    def __init__(self, dim: int, cfg: UgatitConfig) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=cfg.tf),
            nn.InstanceNorm2d(dim, affine=cfg.tf),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=cfg.tf),
            nn.InstanceNorm2d(dim, affine=cfg.tf),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetAdaILNBlock(nn.Module):
    """Decoder block: x + [pad, conv3, AdaLIN, ReLU, pad, conv3, AdaLIN](x)."""

    def __init__(self, dim: int, cfg: UgatitConfig) -> None:
        super().__init__()
        unbiased = not cfg.tf
        self.pad1, self.pad2 = nn.ReflectionPad2d(1), nn.ReflectionPad2d(1)
        self.conv1 = nn.Conv2d(dim, dim, 3, bias=cfg.tf)
        self.norm1 = InstanceLayerNorm(
            dim, adaptive=True, unbiased=unbiased, rho_offset=cfg.rho_offset
        )
        self.conv2 = nn.Conv2d(dim, dim, 3, bias=cfg.tf)
        self.norm2 = InstanceLayerNorm(
            dim, adaptive=True, unbiased=unbiased, rho_offset=cfg.rho_offset
        )

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.norm1(self.conv1(self.pad1(x)), gamma, beta))
        return x + self.norm2(self.conv2(self.pad2(out)), gamma, beta)


class UgatitGenerator(nn.Module):
    """Encoder, class-activation-map attention, an MLP giving AdaLIN's gamma and beta,
    decoder. Returns the image only (the CAM logits and heatmap are for training)."""

    def __init__(self, cfg: UgatitConfig) -> None:
        super().__init__()
        self.config = cfg
        ngf, c = cfg.ngf, cfg.features
        # TF pads a 3×3 stride-2 conv on the top and left only ((kernel − stride) is odd).
        down_pad = (1, 0, 1, 0) if cfg.tf else (1, 1, 1, 1)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(3, ngf, 7, bias=cfg.tf),
            nn.InstanceNorm2d(ngf, affine=cfg.tf),
            nn.ReLU(True),
        ]
        for i in range(N_DOWN):
            width = ngf * 2**i
            layers += [
                nn.ReflectionPad2d(down_pad),
                nn.Conv2d(width, width * 2, 3, stride=2, bias=cfg.tf),
                nn.InstanceNorm2d(width * 2, affine=cfg.tf),
                nn.ReLU(True),
            ]
        layers += [ResnetBlock(c, cfg) for _ in range(cfg.n_blocks)]
        self.DownBlock = nn.Sequential(*layers)
        self.gap_fc = nn.Linear(c, 1, bias=False)  # CAM weights (only .weight is used)
        self.gmp_fc = nn.Linear(c, 1, bias=False)
        self.conv1x1 = nn.Conv2d(2 * c, c, 1)
        self.FC = nn.Sequential(
            nn.Linear(cfg.mlp_in, c, bias=cfg.tf),
            nn.ReLU(True),
            nn.Linear(c, c, bias=cfg.tf),
            nn.ReLU(True),
        )
        self.gamma = nn.Linear(c, c, bias=cfg.tf)
        self.beta = nn.Linear(c, c, bias=cfg.tf)
        for i in range(cfg.n_blocks):
            setattr(self, f"UpBlock1_{i + 1}", ResnetAdaILNBlock(c, cfg))
        up: list[nn.Module] = []
        for i in range(N_DOWN):
            width = c // 2**i
            up += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.ReflectionPad2d(1),
                nn.Conv2d(width, width // 2, 3, bias=cfg.tf),
                InstanceLayerNorm(width // 2, adaptive=False, unbiased=not cfg.tf),
                nn.ReLU(True),
            ]
        up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, bias=cfg.tf), nn.Tanh()]
        self.UpBlock2 = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, S, S) in −1..1
        x = self.DownBlock(x)  # (N, C, S/4, S/4), C = 4·ngf
        gap = x * self.gap_fc.weight[:, :, None, None]  # attention-weighted features
        gmp = x * self.gmp_fc.weight[:, :, None, None]
        x = F.relu(self.conv1x1(torch.cat([gap, gmp], 1)))  # (N, C, S/4, S/4)
        if self.config.light:
            h = self.FC(F.adaptive_avg_pool2d(x, 1).flatten(1))  # (N, C)
        else:
            h = self.FC(x.flatten(1))  # (N, C·S/4·S/4) → (N, C)
        gamma, beta = self.gamma(h), self.beta(h)
        for i in range(self.config.n_blocks):
            x = getattr(self, f"UpBlock1_{i + 1}")(x, gamma, beta)
        return self.UpBlock2(x)  # (N, 3, S, S) in −1..1


def build(cfg: UgatitConfig) -> UgatitGenerator:
    """An empty generator (on the meta device: no memory until weights are assigned)."""
    with torch.device("meta"):
        return UgatitGenerator(cfg)


def _assign(cfg: UgatitConfig, state: StateDict) -> UgatitGenerator:
    model = build(cfg)
    load_strict(model, state, what=WHAT, assign=True)
    return model.eval()


def load(path: Path, *, direction: Direction, smoothing: bool | None = None) -> UgatitGenerator:
    """The generator of ``direction`` from ``path``: a PyTorch params file (zip or pickle),
    else a TensorFlow checkpoint (folder, prefix, ``.index`` or ``.data-*`` file).
    ``smoothing`` None: as the folder's name says (:func:`smoothing_of`)."""
    if path.is_file():
        with path.open("rb") as f:
            head = f.read(4)
        if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
            return load_pytorch(path, direction)
    if smoothing is None:
        smoothing = smoothing_of(path)
    return load_tensorflow(path, direction, smoothing=smoothing)


# --- PyTorch port: <dataset>_params_<step>.pt -----------------------------------------

#: Where a direction's generator is in a params file.
PT_KEYS: dict[Direction, str] = {"a2b": "genA2B", "b2a": "genB2A"}


def load_pytorch(path: Path, direction: Direction) -> UgatitGenerator:
    """The generator of ``direction`` from the PyTorch port's params file at ``path``."""
    try:
        raw = _torch_load(path)
    except Exception as exc:  # torch raises many types for damaged files
        text = str(exc).strip().splitlines()
        raise CheckpointError(
            f"{path}: not a PyTorch checkpoint ({text[0] if text else type(exc).__name__})"
        ) from exc
    key = PT_KEYS[direction]
    if not isinstance(raw, dict) or key not in raw:
        found = ", ".join(map(str, raw)) if isinstance(raw, dict) else type(raw).__name__
        raise CheckpointMismatch(
            f"{path}: not a UGATIT-pytorch params file: no {key!r} (found: {found})"
        )
    state = {k.removeprefix("module."): v for k, v in raw[key].items()}
    return _assign(pytorch_config(state), state)


def _torch_load(path: Path) -> object:
    try:
        # mmap: the full model's 1 GB layer is read from the file, never copied first.
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):
            raise
        return torch.load(path, map_location="cpu", weights_only=True)  # the legacy format


def pytorch_config(state: StateDict) -> UgatitConfig:
    """Widths, block count, light/full and image size, read from the state dict's shapes."""
    ngf = require(state, "DownBlock.1.weight", what=WHAT).shape[0]
    n_blocks = len({k.split(".")[0] for k in state if k.startswith("UpBlock1_")})
    mlp_in = require(state, "FC.0.weight", what=WHAT).shape[1]
    return _sized(ngf, n_blocks, mlp_in, source="pytorch", rho_offset=0.0)


def _sized(
    ngf: int,
    n_blocks: int,
    mlp_in: int,
    *,
    source: Literal["tensorflow", "pytorch"],
    rho_offset: float,
) -> UgatitConfig:
    features = ngf * 2**N_DOWN
    if mlp_in == features:
        light, img_size = True, 256
    else:
        side = math.isqrt(mlp_in // features)
        if side * side * features != mlp_in:
            raise CheckpointMismatch(
                f"not a {WHAT}: the MLP takes {mlp_in} inputs, neither {features} (light) "
                f"nor a square feature map × {features} (full)"
            )
        light, img_size = False, side * 2**N_DOWN
    return UgatitConfig(
        ngf=ngf,
        n_blocks=n_blocks,
        img_size=img_size,
        light=light,
        source=source,
        rho_offset=rho_offset,
    )


# --- TensorFlow: taki0112/UGATIT checkpoints ------------------------------------------

#: The scope of a direction's generator.
TF_SCOPES: dict[Direction, str] = {"a2b": "generator_B", "b2a": "generator_A"}
#: Rows of the full model's first dense kernel read at a time (H·W·C rows of 256 floats).
DENSE_ROWS = 16384


class _TfGenerator:
    """The variables of one generator scope, found by the names the code used, and the
    state dict built from them (``origin`` says which variable each key came from)."""

    def __init__(self, bundle: TensorBundle, scope: str) -> None:
        self.bundle, self.scope = bundle, scope
        self.names = {n for n in bundle.entries if n.startswith(scope + "/")}
        if not self.names:
            scopes = sorted({n.split("/")[0] for n in bundle.entries if "/" in n})
            raise CheckpointMismatch(
                f"{bundle.prefix}: no variables under {scope!r} (scopes: {', '.join(scopes)})"
            )
        self.missing: list[str] = []
        self.state: StateDict = {}
        self.origin: dict[str, str] = {}

    def find(self, *candidates: str) -> str | None:
        """The first of ``candidates`` (relative to the scope) the checkpoint has."""
        for candidate in candidates:
            name = f"{self.scope}/{candidate}"
            if name in self.names:
                return name
        self.missing.append(f"{self.scope}/{candidates[0]}")
        return None

    def put(
        self,
        key: str,
        *candidates: str,
        convert: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
    ) -> None:
        """``state[key]`` = the first variable of ``candidates`` found, converted."""
        name = self.find(*candidates)
        if name is not None:
            value = torch.from_numpy(self.bundle.read(name).astype("float32", copy=False))
            self.state[key] = convert(value)
            self.origin[key] = name

    def count(self, pattern: str) -> int:
        found = {m.group(1) for n in self.names if (m := re.search(pattern, n))}
        return len(found)


def smoothing_of(path: Path) -> bool:
    """Whether the TF code trained with ``--smoothing``, as its checkpoint folder's name
    says (``UGATIT_<dataset>_…_4resblock_6dis_…_sn_smoothing``); True (the code's default)
    for a folder named otherwise."""
    folder = path if path.is_dir() else path.parent
    if re.match(r"UGATIT(_light)?_.+_\d+resblock_\d+dis_", folder.name):
        return folder.name.endswith("_smoothing")
    return True


def load_tensorflow(path: Path, direction: Direction, *, smoothing: bool) -> UgatitGenerator:
    """The generator of ``direction`` from the TF checkpoint at ``path`` (folder or prefix).

    ``smoothing`` is the TF code's ``--smoothing`` (default True there): AdaLIN uses
    ``clip(rho − 0.1, 0, 1)``. Missing variables and shapes that do not fit are reported
    with their TensorFlow names.
    """
    bundle = TensorBundle.open(path)
    g = _TfGenerator(bundle, TF_SCOPES[direction])
    first = g.find("conv/conv2d/kernel", "conv/kernel")
    dense = g.find("MLP/linear_0/dense/kernel", "MLP/linear_0/kernel")
    n_blocks = g.count(r"/resblock_(\d+)/")
    if first is None or dense is None or not n_blocks:
        raise CheckpointMismatch(
            f"{bundle.prefix}: not a U-GAT-IT checkpoint: missing variables "
            + ", ".join(g.missing or [f"{g.scope}/resblock_0/…"])
        )
    cfg = _sized(
        bundle.shape(first)[-1],
        n_blocks,
        bundle.shape(dense)[0],
        source="tensorflow",
        rho_offset=SMOOTHING_OFFSET if smoothing else 0.0,
    )
    _read_tf(g, cfg)
    if g.missing:
        raise CheckpointMismatch(
            f"{bundle.prefix}: missing variables: " + ", ".join(sorted(set(g.missing)))
        )
    expected = build(cfg).state_dict()
    wrong = [
        f"{g.origin[key]} {bundle.shape(g.origin[key])}"
        for key, value in g.state.items()
        if key in expected and value.shape != expected[key].shape
    ]
    if wrong:
        raise CheckpointMismatch(
            f"{bundle.prefix}: shapes that do not fit a U-GAT-IT generator with ngf "
            f"{cfg.ngf} and a {cfg.img_size}-px input: " + ", ".join(wrong)
        )
    state = dict(g.state)
    state["FC.0.weight"] = _first_dense(g, cfg, dense)  # the large one, streamed
    return _assign(cfg, state)


def _read_tf(g: _TfGenerator, cfg: UgatitConfig) -> None:
    """Every variable but the first dense kernel into ``g.state``, in PyTorch layouts."""

    def conv(key: str, layer: str) -> None:
        hwio_to_oihw = partial(torch.permute, dims=(3, 2, 0, 1))
        g.put(f"{key}.weight", f"{layer}/conv2d/kernel", f"{layer}/kernel", convert=hwio_to_oihw)
        g.put(f"{key}.bias", f"{layer}/conv2d/bias", f"{layer}/bias")

    def norm(key: str, layer: str) -> None:
        g.put(f"{key}.weight", f"{layer}/gamma")
        g.put(f"{key}.bias", f"{layer}/beta")

    def linear(key: str, layer: str) -> None:
        g.put(f"{key}.weight", f"MLP/{layer}/dense/kernel", f"MLP/{layer}/kernel", convert=_t)
        g.put(f"{key}.bias", f"MLP/{layer}/dense/bias", f"MLP/{layer}/bias")

    conv("DownBlock.1", "conv")
    norm("DownBlock.2", "ins_norm")
    for i in range(N_DOWN):
        conv(f"DownBlock.{5 + 4 * i}", f"conv_{i}")
        norm(f"DownBlock.{6 + 4 * i}", f"ins_norm_{i}")
    for i in range(cfg.n_blocks):
        block = f"DownBlock.{4 + 4 * N_DOWN + i}.conv_block"
        for j, res in ((1, "res1"), (5, "res2")):
            conv(f"{block}.{j}", f"resblock_{i}/{res}/conv_0")
            norm(f"{block}.{j + 1}", f"resblock_{i}/{res}/instance_norm")
    # The code multiplies the features by kernel + bias, for GAP and GMP alike.
    g.put("gap_fc.weight", "CAM_logit/kernel", convert=_t)
    g.put("cam_bias", "CAM_logit/bias")
    if "gap_fc.weight" in g.state and "cam_bias" in g.state:
        weight = g.state["gap_fc.weight"] + g.state.pop("cam_bias")
        g.state["gap_fc.weight"] = g.state["gmp_fc.weight"] = weight
        g.origin["gmp_fc.weight"] = g.origin["gap_fc.weight"]
    conv("conv1x1", "conv_1x1")
    g.put("FC.0.bias", "MLP/linear_0/dense/bias", "MLP/linear_0/bias")
    linear("FC.2", "linear_1")
    linear("gamma", "gamma")
    linear("beta", "beta")
    for i in range(cfg.n_blocks):
        for j, res in ((1, "res1"), (2, "res2")):
            conv(f"UpBlock1_{i + 1}.conv{j}", f"adaptive_resblock{i}/{res}/conv_0")
            rho = f"adaptive_resblock{i}/{res}/instance_layer_norm/rho"
            g.put(f"UpBlock1_{i + 1}.norm{j}.rho", rho, convert=_per_channel)
    for i in range(N_DOWN):
        conv(f"UpBlock2.{2 + 5 * i}", f"up_conv_{i}")
        for part in ("rho", "gamma", "beta"):
            g.put(
                f"UpBlock2.{3 + 5 * i}.{part}", f"layer_ins_norm_{i}/{part}", convert=_per_channel
            )
    conv(f"UpBlock2.{1 + 5 * N_DOWN}", "G_logit")


def _t(value: torch.Tensor) -> torch.Tensor:
    """A dense kernel ``[in, out]`` as a Linear weight ``[out, in]``."""
    return value.t().contiguous()


def _per_channel(value: torch.Tensor) -> torch.Tensor:
    """A per-channel ``[C]`` variable as the ``(1, C, 1, 1)`` parameter of ILN/AdaLIN."""
    return value.reshape(1, -1, 1, 1)


def _first_dense(g: _TfGenerator, cfg: UgatitConfig, name: str) -> torch.Tensor:
    """The MLP's first kernel as ``[out, in]`` in PyTorch's flatten order, built from
    streamed rows: one copy in memory, however large (1.07 GB at 256 px)."""
    rows, out = g.bundle.shape(name)
    c, side = cfg.features, cfg.img_size // 2**N_DOWN
    if out != c:
        raise CheckpointMismatch(f"{name} has shape {(rows, out)}, expected ({rows}, {c})")
    if cfg.light:
        return _t(torch.from_numpy(g.bundle.read(name)))
    weight = torch.empty(out, c, side, side)  # PyTorch flattens C, H, W
    # TF flattens H, W, C: row r is (h, w, ch) with r = (h·side + w)·c + ch.
    flat = weight.view(out, c, side * side)
    for start, block in g.bundle.rows(name, DENSE_ROWS):
        n = block.shape[0]
        first, last = start // c, (start + n) // c  # whole pixels: DENSE_ROWS % c == 0
        chunk = torch.from_numpy(block).view(last - first, c, out)
        flat[:, :, first:last] = chunk.permute(2, 1, 0)
    return weight.view(out, c * side * side)
