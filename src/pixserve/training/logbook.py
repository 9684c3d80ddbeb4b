"""``losses.csv`` and its picture ``losses.png``: training curves without a separate server."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

from pixserve.training.run import write_atomic

FIXED = ("epoch", "step", "images")
TRAILING = ("lr", "seconds")


class LossLog:
    """Rows of window-averaged losses: ``epoch`` (fractional), ``step``, ``images``, one
    column per loss, ``lr`` and ``seconds`` of training so far."""

    def __init__(self, path: Path, loss_names: Sequence[str]) -> None:
        self.path = path
        self.columns = [*FIXED, *loss_names, *TRAILING]

    def rows(self) -> list[dict[str, float]]:
        """Every row written so far."""
        if not self.path.is_file():
            return []
        with self.path.open(newline="") as f:
            return [
                {k: float(v) for k, v in row.items() if k in self.columns and v not in ("", None)}
                for row in csv.DictReader(f)
            ]

    def truncate(self, step: int) -> None:
        """Drop rows after ``step``: a resumed run rewrites what it does again."""
        kept = [r for r in self.rows() if r.get("step", 0) <= step]
        self._write(kept)

    def append(self, row: dict[str, float]) -> None:
        """Add one row (the header is written with the first)."""
        new = not self.path.is_file() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({k: _fmt(v) for k, v in row.items()})

    def _write(self, rows: list[dict[str, float]]) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(v) for k, v in row.items()})
        write_atomic(self.path, buf.getvalue().encode())


def _fmt(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def plot_losses(log: LossLog, target: Path, loss_names: Sequence[str], title: str) -> bool:
    """Draw every loss against the epoch into ``target`` (PNG). False if there is no row yet.

    One panel per loss, because GAN, L1 and style losses differ by orders of magnitude; a
    loss that is 0 throughout (a term weighted 0, i.e. switched off) gets none.
    """
    rows = log.rows()
    if not rows:
        return False
    loss_names = [n for n in loss_names if any(r.get(n, 0.0) != 0 for r in rows)] or loss_names
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    cols = min(3, len(loss_names))
    lines = math.ceil(len(loss_names) / cols)
    fig, axes = plt.subplots(lines, cols, figsize=(4.2 * cols, 2.8 * lines), squeeze=False)
    epochs = [r["epoch"] for r in rows]
    for ax, name in zip(axes.flat, loss_names, strict=False):
        ax.plot(epochs, [r.get(name, math.nan) for r in rows], linewidth=1.2)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(loss_names) :]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    write_atomic(target, buf.getvalue())
    return True
