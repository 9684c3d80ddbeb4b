"""What only ``LocalBlobStore`` has: the file system, symlinks, atomic renames."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from pixserve.core.errors import InvalidRequest, Unavailable
from pixserve.storage import LocalBlobStore
from pixserve.storage.keys import TEMP_SUFFIX


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret").write_bytes(b"secret")
    return folder


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "root")


def all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_files_land_under_root(store: LocalBlobStore) -> None:
    store.put("jobs/a/in.jpg", b"data")
    assert (store.root / "jobs" / "a" / "in.jpg").read_bytes() == b"data"


def test_root_is_created_and_resolved(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "x" / ".." / "y")
    assert store.root == (tmp_path / "y").resolve() and store.root.is_dir()


def test_symlinked_folder_cannot_lead_outside(store: LocalBlobStore, outside: Path) -> None:
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidRequest):
        store.put("link/evil", b"x")
    with pytest.raises(InvalidRequest):
        store.get("link/secret")
    with pytest.raises(InvalidRequest):
        store.delete("link/secret")
    with pytest.raises(InvalidRequest):
        list(store.keys("link/"))
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"


def test_symlinked_file_cannot_lead_outside(store: LocalBlobStore, outside: Path) -> None:
    (store.root / "f").symlink_to(outside / "secret")
    with pytest.raises(InvalidRequest):
        store.get("f")
    with pytest.raises(InvalidRequest):
        store.put("f", b"overwrite")
    assert list(store.keys()) == []
    assert (outside / "secret").read_bytes() == b"secret"


def test_symlink_inside_root_is_fine(store: LocalBlobStore) -> None:
    store.put("real/a", b"x")
    (store.root / "alias").symlink_to(store.root / "real", target_is_directory=True)
    assert store.get("alias/a") == b"x"


def test_root_itself_may_be_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    store = LocalBlobStore(tmp_path / "link")
    store.put("a/b", b"x")
    assert (real / "a" / "b").read_bytes() == b"x"
    assert list(store.keys()) == ["a/b"]


def test_no_temp_files_are_left(store: LocalBlobStore) -> None:
    for i in range(20):
        store.put("jobs/x/out.png", os.urandom(1000 + i))
    assert all_files(store.root) == ["jobs/x/out.png"]


def test_failed_write_leaves_old_bytes_and_no_temp_file(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put("k", b"old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put("k", b"new")
    monkeypatch.undo()
    assert store.get("k") == b"old"
    assert all_files(store.root) == ["k"]


def test_keys_skip_temp_files(store: LocalBlobStore) -> None:
    store.put("a/b", b"x")
    (store.root / "a" / f".b.0123{TEMP_SUFFIX}").write_bytes(b"half")
    assert list(store.keys()) == ["a/b"]


def test_readers_see_whole_files_while_a_writer_replaces_them(store: LocalBlobStore) -> None:
    versions = [b"a" * 300_000, b"b" * 700_000, b"c" * 50_000]
    store.put("img", versions[0])
    stop = threading.Event()
    errors: list[str] = []

    def read() -> None:
        while not stop.is_set():
            data = store.get("img")
            if data not in versions:
                errors.append(f"torn read of {len(data)} bytes")
                return

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for i in range(60):
        store.put("img", versions[i % len(versions)])
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert all_files(store.root) == ["img"]


def test_delete_prunes_empty_folders_but_not_root(store: LocalBlobStore) -> None:
    store.put("jobs/a/in.jpg", b"x")
    store.put("jobs/a/out.jpg", b"x")
    store.put("jobs/b/in.jpg", b"x")
    store.delete("jobs/a/in.jpg")
    assert (store.root / "jobs" / "a").is_dir()
    store.delete("jobs/a/out.jpg")
    assert not (store.root / "jobs" / "a").exists()
    assert (store.root / "jobs" / "b").is_dir()
    store.delete("jobs/b/in.jpg")
    assert store.root.is_dir() and list(store.root.iterdir()) == []


def test_concurrent_put_and_delete_in_one_folder(store: LocalBlobStore) -> None:
    errors: list[BaseException] = []

    def churn(name: str) -> None:
        try:
            for _ in range(150):
                store.put(f"jobs/shared/{name}", b"x")
                store.delete(f"jobs/shared/{name}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(f"f{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all_files(store.root) == []


def test_ping_fails_when_root_is_gone(store: LocalBlobStore) -> None:
    store.ping()
    store.root.rmdir()
    with pytest.raises(Unavailable):
        store.ping()
