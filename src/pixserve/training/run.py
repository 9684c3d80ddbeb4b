"""A run folder: what ``pixserve train`` writes, ``--resume`` reads and ``export`` publishes.

Torch-free, so tools can read a run's config and list its files without the ``train`` extra.

```
RUN/
  config.json              RunConfig: enough to rebuild every network and continue training
  checkpoints/
    latest_net_G.pth       each network's state dict in its upstream key layout
    5_net_G.pth            … every --save-every epochs and at the end
    latest_state.pt        optimisers, LR schedules, RNG states, epoch and position (resume)
  losses.csv               one row per --log-every iterations
  losses.png               the curves, redrawn every epoch
  samples/epoch_001.png    input | output | target on fixed validation images
```
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pixserve.core.errors import InvalidRequest

CONFIG_FILE = "config.json"
STATE_FILE = "latest_state.pt"

#: The networks each architecture's run can export, and the ``pixserve import`` family
#: that reads their checkpoint files (a distill run's depends on its student: see
#: :func:`exportable`).
EXPORTABLE: dict[str, dict[str, str]] = {
    "pix2pix": {"G": "pix2pix"},
    "cyclegan": {"G_A": "cyclegan", "G_B": "cyclegan"},
    "fast-style": {"G": "fast-style"},
}
#: The import family of each distillation student.
STUDENT_FAMILIES = {"compact": "compact", "transformer": "fast-style", "resnet": "cyclegan"}


def exportable(config: RunConfig) -> dict[str, str]:
    """The networks ``config``'s run can export, by name, with their import family."""
    if config.arch == "distill":
        return {"G": STUDENT_FAMILIES[config.generator.get("arch", "compact")]}
    return EXPORTABLE.get(config.arch, {})


@dataclass
class LoopConfig:
    """What the shared training loop needs, whatever the architecture."""

    epochs: int = 10
    #: The last ``decay_epochs`` epochs decay the learning rate linearly towards 0.
    decay_epochs: int = 0
    batch_size: int = 1
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    save_every: int = 5
    log_every: int = 50
    samples: int = 4
    workers: int = 0
    precision: str = "auto"
    #: What ``precision`` came to at the run's last start; a resumed ``auto`` keeps it.
    chosen_precision: str = ""
    device: str = "auto"


@dataclass
class DataConfig:
    """Where the images come from and how they are cut."""

    path: str
    size: int = 256  # the square the networks train on
    load_size: int = 286  # images are resized to this first, then randomly cropped
    flip: bool = True
    direction: str = "AtoB"  # pix2pix: which half is the input
    #: square | shorter-side | none: how images reach load_size (see training.data.Augment).
    resize: str = "square"
    #: Each epoch visits every image this many times (small datasets, long epochs).
    repeat: int = 1


@dataclass
class RunConfig:
    """A run's config, saved as ``config.json``."""

    arch: str
    loop: LoopConfig
    data: DataConfig
    #: The generator's config dataclass as a dict (e.g. ``UnetGeneratorConfig``).
    generator: dict[str, Any]
    #: The architecture's own options (loss weights, discriminator, …) as a dict.
    options: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The config as indented JSON."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = CONFIG_FILE) -> RunConfig:
        """Parse :meth:`to_json` output; :class:`InvalidRequest` names what is wrong."""
        try:
            raw = json.loads(text)
            loop = _build(LoopConfig, raw["loop"])
            data = _build(DataConfig, raw["data"])
            return cls(
                arch=str(raw["arch"]),
                loop=loop,
                data=data,
                generator=dict(raw["generator"]),
                options=dict(raw.get("options", {})),
                versions=dict(raw.get("versions", {})),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest(f"{source}: not a pixserve run config ({exc})") from None


def _build(cls: type, raw: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"unknown keys {unknown}")
    return cls(**raw)


class RunFolder:
    """The files of one run, by name."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.config_path = self.path / CONFIG_FILE
        self.checkpoints = self.path / "checkpoints"
        self.samples = self.path / "samples"
        self.losses_csv = self.path / "losses.csv"
        self.losses_png = self.path / "losses.png"
        self.state_path = self.checkpoints / STATE_FILE

    def exists(self) -> bool:
        """Whether a run was started here (it has a config)."""
        return self.config_path.is_file()

    def net_path(self, name: str, epoch: int | str = "latest") -> Path:
        """``checkpoints/<epoch>_net_<name>.pth``, the upstream repositories' naming."""
        return self.checkpoints / f"{epoch}_net_{name}.pth"

    def sample_path(self, epoch: int) -> Path:
        """``samples/epoch_NNN.png`` for the 1-based ``epoch``."""
        return self.samples / f"epoch_{epoch:03d}.png"

    def load_config(self) -> RunConfig:
        """The saved config; :class:`InvalidRequest` if this is not a run folder."""
        if not self.exists():
            raise InvalidRequest(f"{self.path} is not a pixserve run (no {CONFIG_FILE})")
        return RunConfig.from_json(self.config_path.read_text(), source=str(self.config_path))

    def save_config(self, config: RunConfig) -> None:
        """Write ``config.json`` (atomically)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.config_path, config.to_json().encode())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
