"""The shared loop: exact resume, what a run folder holds, and clear refusals."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from pixserve.cli.main import cli
from pixserve.training.distributed import Cluster
from pixserve.training.loop import Loop, linear_decay, seed_everything
from pixserve.training.pix2pix import Pix2PixTrainer
from pixserve.training.precision import resolve_precision
from pixserve.training.run import RunFolder
from tests.support.datasets import write_aligned

TINY = ["--levels", "5", "--ngf", "4", "--ndf", "4", "--size", "32", "--quiet", "--log-every", "2"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pairs")
    write_aligned(root / "train", 5, side=40)
    write_aligned(root / "val", 2, side=40)
    return root


def train(*args: str) -> str:
    result = CliRunner().invoke(cli, ["train", "pix2pix", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def weights(run: Path, net: str = "G") -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / f"latest_net_{net}.pth", weights_only=True)


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6), k


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_two_epochs_equal_one_plus_a_resumed_one(data: Path, tmp_path: Path, precision: str):
    flags = [*TINY, "--epochs", "2", "--precision", precision]
    train(str(data), "--out", str(tmp_path / "whole"), *flags)
    out = train(str(data), "--out", str(tmp_path / "split"), *flags, "--stop-after", "1")
    assert f"continue with --resume {tmp_path / 'split'}" in out
    resumed = train("--resume", str(tmp_path / "split"))
    assert "resuming" in resumed and "at epoch 2" in resumed
    chosen = RunFolder(tmp_path / "split").load_config().loop.chosen_precision
    assert chosen in ("fp32", "bf16")
    if precision == "auto":  # not timed again: a timing near the line could flip
        assert f"precision {chosen} (auto, as the run chose at its start" in resumed
    for net in ("G", "D"):  # dropout masks, BatchNorm statistics and Adam state all carried
        assert_same(weights(tmp_path / "whole", net), weights(tmp_path / "split", net))
    whole = (tmp_path / "whole" / "losses.csv").read_text().splitlines()
    split = (tmp_path / "split" / "losses.csv").read_text().splitlines()
    assert [r.rsplit(",", 1)[0] for r in whole] == [r.rsplit(",", 1)[0] for r in split]


def test_a_stop_inside_an_epoch_resumes_exactly(data: Path, tmp_path: Path) -> None:
    flags = [*TINY, "--epochs", "2", "--precision", "fp32", "--decay-epochs", "1"]
    train(str(data), "--out", str(tmp_path / "whole"), *flags)
    train(str(data), "--out", str(tmp_path / "cut"), *flags, "--stop-after", "1")
    run = RunFolder(tmp_path / "cut")
    # Continue the second epoch in-process and stop it after 2 of its 5 steps, as Ctrl-C does.
    config = run.load_config()
    cluster = Cluster(torch.device("cpu"))
    seed_everything(config.loop.seed)
    trainer = Pix2PixTrainer(config, cluster, resolve_precision("fp32", cluster.device))
    loop = Loop(trainer, run, progress=False, echo=lambda _: None)
    step = trainer.train_step
    calls = []

    def counting(batch):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            loop.request_stop()
        return step(batch)

    trainer.train_step = counting  # type: ignore[method-assign]
    stopped = loop.run(resume=True)
    assert stopped.stopped and (stopped.epochs_done, stopped.step) == (1, 7)
    out = train("--resume", str(tmp_path / "cut"))
    assert "at epoch 2, step 2" in out
    assert_same(weights(tmp_path / "whole"), weights(tmp_path / "cut"))


def test_a_run_folder_holds_config_checkpoints_curves_and_samples(data: Path, tmp_path: Path):
    run = tmp_path / "run"
    train(str(data), "--out", str(run), *TINY, "--epochs", "2", "--save-every", "1")
    names = {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}
    assert names >= {
        "config.json",
        "losses.csv",
        "losses.png",
        "samples/epoch_001.png",
        "samples/epoch_002.png",
        "checkpoints/latest_net_G.pth",
        "checkpoints/latest_net_D.pth",
        "checkpoints/1_net_G.pth",
        "checkpoints/2_net_G.pth",
        "checkpoints/latest_state.pt",
    }
    umask = os.umask(0)
    os.umask(umask)
    for written in ("losses.png", "config.json", "checkpoints/latest_net_G.pth"):
        assert (run / written).stat().st_mode & 0o777 == 0o666 & ~umask, written
    with Image.open(run / "losses.png") as plot:
        assert plot.format == "PNG" and plot.width > 300
    with Image.open(run / "samples" / "epoch_002.png") as grid:
        # input | output | target for the 2 validation pairs, tiles enlarged to ≥ 96 px
        assert grid.format == "PNG" and grid.width > 3 * 96 and grid.height > 2 * 96
    rows = list(csv.DictReader((run / "losses.csv").open()))
    assert list(rows[0]) == [
        "epoch", "step", "images", "G_GAN", "G_L1", "D_real", "D_fake", "lr", "seconds",
    ]  # fmt: skip
    assert float(rows[-1]["epoch"]) == 2.0 and int(rows[-1]["step"]) == 10
    config = RunFolder(run).load_config()
    assert config.generator["num_downs"] == 5 and config.data.size == 32


def test_refusals_are_one_line_with_a_code(data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run = tmp_path / "run"
    train(str(data), "--out", str(run), *TINY, "--epochs", "1")

    def refused(*args: str) -> str:
        result = runner.invoke(cli, ["train", *args])
        assert result.exit_code != 0
        assert "Traceback" not in result.output
        return result.output

    assert "already holds a run" in refused("pix2pix", str(data), "--out", str(run), *TINY)
    assert "--ngf: cannot change on --resume" in refused(
        "pix2pix", "--resume", str(run), "--ngf", "8"
    )
    assert "is a pix2pix run" in refused("cyclegan", "--resume", str(run))
    assert "not a pixserve run" in refused("pix2pix", "--resume", str(tmp_path))
    assert "has done all 1 epochs" in train("--resume", str(run))
    (tmp_path / "empty").mkdir()
    assert "invalid_dataset" in refused(
        "pix2pix", str(tmp_path / "empty"), "--out", str(tmp_path / "r2"), *TINY
    )


def test_the_schedule_is_constant_then_linear_to_zero() -> None:
    factor = linear_decay(epochs=4, decay_epochs=2)
    assert [round(factor(e), 4) for e in range(4)] == [1.0, 1.0, 0.6667, 0.3333]
    assert [factor(e) for e in range(3)] == [1.0, 1.0, 1.0] or linear_decay(3, 0)(2) == 1.0
