"""``LocalBlobStore``: blobs as files under one folder, written atomically."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from pixserve.core.errors import BlobNotFound, InvalidRequest, Unavailable
from pixserve.storage.keys import TEMP_SUFFIX, validate_key, validate_prefix

_PUT_TRIES = 5


class LocalBlobStore:
    """A :class:`~pixserve.storage.base.BlobStore` on the local file system.

    ``put`` writes a temp file in the key's folder, fsyncs it and renames it over the old
    file, so a reader sees the old bytes or the new ones, never half a file. Keys are checked
    syntactically and then resolved, so neither ``..`` nor a symlink can lead outside ``root``.
    """

    def __init__(self, root: Path | str) -> None:
        root = Path(root).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """The file that holds ``key``; raise ``InvalidRequest`` if it would leave the root."""
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        # Resolving follows symlinks already on disk: a link to /etc is refused here.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidRequest(f"blob key {key!r} points outside the store")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically, replacing what was there."""
        path = self.path_for(key)
        # A concurrent delete may prune the folder while we create it or write into it
        # (mkdir(exist_ok=True) then raises FileExistsError): try again.
        for attempt in range(_PUT_TRIES):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._write_atomically(path, data)
                return
            except (FileNotFoundError, FileExistsError):
                if attempt == _PUT_TRIES - 1:
                    raise

    def _write_atomically(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(path.parent)

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``; raise ``BlobNotFound`` if there are none."""
        path = self.path_for(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(f"no blob under {key!r}") from None

    def delete(self, key: str) -> None:
        """Remove ``key`` (a missing key is fine) and prune folders left empty."""
        path = self.path_for(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:  # not empty (or already gone): stop pruning
                break
            parent = parent.parent

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds bytes."""
        return self.path_for(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix``, walking only the folders that can match."""
        validate_prefix(prefix)
        folder, _, _ = prefix.rpartition("/")
        start = self.path_for(folder) if folder else self.root
        return self._walk(start, prefix)

    def _walk(self, start: Path, prefix: str) -> Iterator[str]:
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if rel_dir == "." else rel_dir + "/"
            # Descend only into folders that can hold a matching key.
            dirnames[:] = [d for d in dirnames if _may_match(base + d + "/", prefix)]
            for name in filenames:
                key = base + name
                if name.endswith(TEMP_SUFFIX) or not key.startswith(prefix):
                    continue
                full = Path(dirpath, name)
                if full.is_symlink() and not full.resolve().is_relative_to(self.root):
                    continue
                yield key

    def ping(self) -> None:
        """Raise ``Unavailable`` unless the root folder exists and is writable."""
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise Unavailable(f"blob folder {self.root} is missing or not writable")


def _may_match(folder: str, prefix: str) -> bool:
    """Whether keys under ``folder`` (ending in '/') can start with ``prefix``."""
    return folder.startswith(prefix) or prefix.startswith(folder)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; some platforms cannot open folders, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
