"""``FAMILIES``: every checkpoint family ``pixserve import`` reads, and how to guess one.

A family turns a state dict into an ``nn.Module`` plus what a style bundle must know to
feed it: value range, size multiple, scale and whether tiles may be used. Adding one is a
new module in this package and one entry here; see ``docs/models.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

from pixserve.core.errors import UnknownArchitecture
from pixserve.core.tensor_io import TensorIO, ValueRange
from pixserve.models import (
    animegan2,
    compact,
    pix2pixhd,
    resnet_generator,
    rrdbnet,
    srvgg,
    transformer_net,
    unet_generator,
)
from pixserve.models.checkpoint import StateDict


class ModelIO(TensorIO):
    """The tensor convention of a loaded model (what its bundle's ``[model]`` table states),
    and whether tiles may be used."""

    #: Fully convolutional with a bounded receptive field: tiles give the same pixels.
    #: False for networks that normalise over the whole image (instance/group norm).
    local: bool = False


@dataclass
class LoadedModel:
    """A module in eval mode, its config dataclass, and its I/O convention."""

    family: str
    module: nn.Module
    config: Any
    io: ModelIO
    notes: list[str] = field(default_factory=list)

    def config_dict(self) -> dict[str, Any]:
        """The config as saved beside the weights (``config.json``)."""
        return {
            "family": self.family,
            "architecture": type(self.module).__name__,
            "config": asdict(self.config),
        }


@dataclass(frozen=True)
class Family:
    """One ``ARCH`` of ``pixserve import``."""

    name: str
    title: str
    load: Callable[[StateDict, dict[str, Any]], LoadedModel]
    #: A key whose presence says a state dict is of this family (for ``auto``).
    signature: str


def _cyclegan(state: StateDict, opts: dict[str, Any]) -> LoadedModel:
    model = resnet_generator.load(state, batch_stats=opts.get("batch_stats", "image"))
    cfg = model.config
    notes = [f"ResnetGenerator, {cfg.n_blocks} blocks, ngf {cfg.ngf}, {cfg.norm} norm"]
    return LoadedModel(
        "cyclegan", model, cfg, ModelIO(range=ValueRange.SIGNED, size_multiple=4), notes
    )


def _pix2pix(state: StateDict, opts: dict[str, Any]) -> LoadedModel:
    model = unet_generator.load(state, batch_stats=opts.get("batch_stats", "image"))
    cfg = model.config
    notes = [f"UnetGenerator unet_{2**cfg.num_downs}, ngf {cfg.ngf}, {cfg.norm} norm"]
    if cfg.norm == "batch":
        notes.append(f"BatchNorm uses {cfg.batch_stats} statistics; dropout off")
    io = ModelIO(range=ValueRange.SIGNED, size_multiple=2**cfg.num_downs)
    return LoadedModel("pix2pix", model, cfg, io, notes)


def _pix2pixhd(state: StateDict, opts: dict[str, Any]) -> LoadedModel:
    model = pix2pixhd.load(state, batch_stats=opts.get("batch_stats", "image"))
    cfg = model.config
    notes = [
        f"{type(model).__name__}, ngf {cfg.ngf}, {cfg.n_downsample_global} downsamplings, "
        f"{cfg.n_blocks_global} blocks, {cfg.norm} norm"
    ]
    if cfg.kind == "local":
        notes.append(f"{cfg.n_local_enhancers} local enhancer(s), {cfg.n_blocks_local} blocks each")
    if cfg.norm == "batch":
        notes.append(f"BatchNorm uses {cfg.batch_stats} statistics")
    io = ModelIO(range=ValueRange.SIGNED, size_multiple=cfg.size_multiple)
    return LoadedModel("pix2pixhd", model, cfg, io, notes)


def _fast_style(state: StateDict, opts: dict[str, Any]) -> LoadedModel:
    model = transformer_net.load(state)
    io = ModelIO(range=ValueRange.BYTE, size_multiple=4)
    return LoadedModel("fast-style", model, model.config, io, ["TransformerNet"])


def _compact(state: StateDict, opts: dict[str, Any]) -> LoadedModel:
    model = compact.load(state)
    c = model.config
    io = ModelIO(range=ValueRange.SIGNED, size_multiple=c.scale, local=True)
    notes = [f"CompactNet ×1/{c.scale}, width {c.width}, {c.depth} blocks"]
    return LoadedModel("compact", model, c, io, notes)


def _animegan2(state: StateDict, opts: dict[str, Any]) -> LoadedModel:
    model = animegan2.load(state, align_corners=opts.get("align_corners", False))
    align = model.config.align_corners
    io = ModelIO(range=ValueRange.SIGNED, size_multiple=1 if align else 4)
    return LoadedModel("animegan2", model, model.config, io, [f"align_corners={align}"])


def _realesrgan(state: StateDict, opts: dict[str, Any]) -> LoadedModel:
    if "conv_first.weight" in state:
        rrdb = rrdbnet.load(state)
        c = rrdb.config
        io = ModelIO(
            range=ValueRange.UNIT,
            size_multiple={4: 1, 2: 2, 1: 4}[c.scale],
            scale=c.scale,
            local=True,
        )
        notes = [f"RRDBNet x{c.scale}, {c.num_block} blocks, {c.num_feat} features"]
        return LoadedModel("realesrgan", rrdb, c, io, notes)
    vgg = srvgg.load(state, act_type=opts.get("act_type"))
    v = vgg.config
    notes = [f"SRVGGNetCompact x{v.upscale}, {v.num_conv} convs, {v.num_feat} features"]
    io = ModelIO(range=ValueRange.UNIT, scale=v.upscale, local=True)
    return LoadedModel("realesrgan", vgg, v, io, notes)


FAMILIES: dict[str, Family] = {
    "cyclegan": Family("cyclegan", "CycleGAN ResnetGenerator", _cyclegan, "model.1.weight"),
    "pix2pix": Family("pix2pix", "pix2pix UnetGenerator", _pix2pix, "model.model.0.weight"),
    # Global generators share cyclegan's signature: guess_family asks pix2pixhd.recognises.
    "pix2pixhd": Family(
        "pix2pixhd", "pix2pixHD GlobalGenerator / LocalEnhancer", _pix2pixhd, "model1_1."
    ),
    "fast-style": Family(
        "fast-style", "fast neural style TransformerNet", _fast_style, "conv1.conv2d.weight"
    ),
    "animegan2": Family("animegan2", "AnimeGANv2 generator", _animegan2, "block_a.0.1.weight"),
    "compact": Family(
        "compact", "pixserve CompactNet (distilled students)", _compact, "inp.weight"
    ),
    "realesrgan": Family(
        "realesrgan", "Real-ESRGAN RRDBNet / SRVGGNetCompact", _realesrgan, "body.0."
    ),
}


def guess_family(state: StateDict) -> str:
    """The family whose signature key the state dict has; :class:`UnknownArchitecture` if none."""
    if "conv_first.weight" in state:
        return "realesrgan"
    if pix2pixhd.recognises(state):  # before cyclegan, whose key its files have too
        return "pix2pixhd"
    for family in FAMILIES.values():
        if any(k.startswith(family.signature) for k in state):
            return family.name
    sample = ", ".join(sorted(state)[:8])
    known = ", ".join(FAMILIES)
    raise UnknownArchitecture(
        f"cannot tell the architecture from the keys ({sample}, …); name one of: {known}"
    )


def load_family(family: str, state: StateDict, **options: Any) -> LoadedModel:
    """Load ``state`` as ``family`` (a key of :data:`FAMILIES`)."""
    try:
        spec = FAMILIES[family]
    except KeyError:
        known = ", ".join(FAMILIES)
        raise UnknownArchitecture(f"unknown architecture {family!r} (known: {known})") from None
    return spec.load(state, options)
