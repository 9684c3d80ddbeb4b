"""``pixserve dataset …`` through click: exit codes, summaries, errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from pixserve.cli.dataset import dataset
from pixserve.training.layout import find_paired, read_pair
from tests.support.datasets import noise, photo, save


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(dataset, [str(a) for a in args])


def assert_clean_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    # exit(1) from friendly_errors, not an exception escaping with a traceback
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    save(src / "astronaut.jpg", photo("astronaut"), quality=92)
    save(src / "coffee.jpg", photo("coffee"), quality=92)
    (src / "notes.jpg").write_text("text\n")
    return src


def test_faces_prints_a_summary_with_the_skipped_files(photos: Path, tmp_path: Path) -> None:
    result = invoke("faces", photos, tmp_path / "faces", "--size", "48", "--detector", "yuface")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"1 face crop of 3 photos written to {tmp_path / 'faces'}"
    assert lines[1] == "skipped 2:"
    assert lines[2] == f"  {photos / 'coffee.jpg'}: no face found (yuface detector)"
    assert lines[3].startswith(f"  {photos / 'notes.jpg'}: This file is not an image")
    assert "faces: 100%" in result.stderr  # the progress bar
    assert (tmp_path / "faces" / "astronaut.png").is_file()


def test_a_long_skipped_list_is_cut_and_nothing_written_fails(tmp_path: Path) -> None:
    for i in range(22):
        save(tmp_path / "src" / f"{i:02d}.png", noise(24, 24, i))
    result = invoke("faces", tmp_path / "src", tmp_path / "out", "--detector", "haar")
    assert result.exit_code == 1
    assert "0 face crops of 22 photos written" in result.stdout
    assert "  … and 2 more" in result.stdout and "19.png" in result.stdout
    assert "20.png" not in result.stdout
    assert "error: nothing was written" in result.stderr


@pytest.mark.parametrize(
    ("setup", "message"),
    [("missing", "does not exist"), ("file", "is a file"), ("empty", "holds no images")],
)
@pytest.mark.parametrize("command", ["faces", "sketch", "pairs"])
def test_bad_sources_are_one_line_errors(
    tmp_path: Path, command: str, setup: str, message: str
) -> None:
    src = tmp_path / "src"
    if setup == "file":
        src.write_text("x")
    elif setup == "empty":
        src.mkdir()
    extra = ["--teacher", "pencil"] if command == "pairs" else []
    result = invoke(command, src, tmp_path / "out", *extra)
    assert_clean_error(result, message, "(invalid_dataset)")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreadable_files_only(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.jpg").write_text("hello")
    result = invoke("sketch", tmp_path / "src", tmp_path / "out")
    assert_clean_error(result, "none of the 1 image files", "(invalid_dataset)")


def test_sketch_then_split(photos: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = invoke("sketch", photos, data, "--size", "32")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"2 pairs of 3 photos written to {data}\n")
    result = invoke("split", data, "--val", "0.5", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"split images in {data}: train 1, val 1\n"
    a, b = read_pair(find_paired(data, "train")[0])
    assert a.shape == b.shape == (32, 32, 3)
    again = invoke("split", data)
    assert_clean_error(again, "is split already (it has train/, val/)", "(invalid_dataset)")


def test_a_full_destination_needs_force(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("sketch", photos, out, "--size", "16").exit_code == 0
    assert_clean_error(invoke("sketch", photos, out), "is not empty", "--force")
    result = invoke("sketch", photos, out, "--size", "16", "--layout", "folders", "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["A", "B"]  # the old pairs are gone


def test_pairs_with_a_builtin_teacher(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXSERVE_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PIXSERVE_STYLES_PATH", "")
    result = invoke("pairs", photos, tmp_path / "out", "--teacher", "pencil", "--size", "24")
    assert result.exit_code == 0, result.output
    assert "2 pairs of 3 photos written" in result.stdout
    assert "pencil: 100%" in result.stderr
    a, b = read_pair(find_paired(tmp_path / "out")[0])
    assert a.shape == b.shape == (24, 24, 3) and not np.array_equal(a, b)
    unknown = invoke("pairs", photos, tmp_path / "o2", "--teacher", "nope")
    assert_clean_error(unknown, "no style called “nope”", "(unknown_style)")
    assert not (tmp_path / "o2").exists()


def test_faces_without_yuface_installed(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(name: str = "auto") -> None:
        raise ModuleNotFoundError("No module named 'yuface'")

    monkeypatch.setattr("pixserve.training.prep.faces.make_detector", missing)
    result = invoke("faces", photos, tmp_path / "out", "--detector", "yuface")
    assert_clean_error(result, "yuface is not installed", "--detector haar")


def test_split_options_are_checked(tmp_path: Path) -> None:
    result = invoke("split", tmp_path, "--val", "0.6", "--test", "0.5")
    assert result.exit_code == 2 and "must leave something to train on" in result.output


def test_the_group_is_registered() -> None:
    import click

    from pixserve.cli.main import cli

    assert cli.get_command(click.Context(cli), "dataset") is dataset
    assert sorted(dataset.commands) == ["faces", "pairs", "sketch", "split"]


def test_the_dataset_commands_do_not_import_torch() -> None:
    """They run on a serving-only install, where torch is absent."""
    code = (
        "import sys, pixserve.cli.dataset, pixserve.training.layout, pixserve.training.prep\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
