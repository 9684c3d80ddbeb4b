"""TensorFlow checkpoints (``tf.train.Saver`` / ``tf.train.Checkpoint``) read without TensorFlow.

A checkpoint ``<prefix>`` is the TensorBundle format:

- ``<prefix>.index``: an uncompressed table in LevelDB's format (data blocks of
  prefix-compressed key/value entries with restart points, an index block, a 48-byte
  footer ending in a magic number). Keys are variable names; the value under the empty
  key is a ``BundleHeaderProto`` (number of shards, byte order), every other value a
  ``BundleEntryProto``: dtype, shape, shard, offset, size and the masked CRC-32C of the
  tensor's bytes.
- ``<prefix>.data-<shard>-of-<shards>``: the tensors' raw little-endian C-order bytes.

The few protobuf messages are decoded by hand (wire format: varints and length-delimited
fields), so reading needs numpy and ``google-crc32c`` only. Every tensor read is checked
against its CRC-32C; a damaged or truncated file is a :class:`CheckpointError` naming the
variable. :meth:`TensorBundle.rows` streams a large 2-D tensor in chunks, so a 1 GB dense
layer is never held twice.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import google_crc32c
import numpy as np

from pixserve.core.errors import CheckpointError

#: LevelDB's table magic number, the last 8 bytes of an ``.index`` file.
TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5  # compression type (1 byte) + masked CRC-32C (4 bytes)

#: TensorFlow's ``DataType`` enum values for the numeric dtypes a model holds.
DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"),
    2: np.dtype("<f8"),
    3: np.dtype("<i4"),
    4: np.dtype("u1"),
    5: np.dtype("<i2"),
    6: np.dtype("i1"),
    9: np.dtype("<i8"),
    10: np.dtype("?"),
    14: np.dtype("<u2"),  # bfloat16: the upper half of a float32
    19: np.dtype("<f2"),
}
BFLOAT16 = 14
DTYPE_NAMES = {7: "string", 8: "complex64", 18: "complex128", 20: "resource", 21: "variant"}

#: Read this many bytes at a time when streaming a tensor.
CHUNK_BYTES = 16 << 20


@dataclass(frozen=True)
class TensorEntry:
    """Where one variable's bytes are, as the index says."""

    name: str
    dtype: int  # TensorFlow DataType enum
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc32c: int  # masked, as stored
    sliced: bool

    @property
    def numpy_dtype(self) -> np.dtype:
        """The dtype of the stored bytes; :class:`CheckpointError` for non-numeric ones."""
        try:
            return DTYPES[self.dtype]
        except KeyError:
            kind = DTYPE_NAMES.get(self.dtype, f"dtype {self.dtype}")
            raise CheckpointError(
                f"variable {self.name!r} holds {kind} values, not numbers"
            ) from None


class TensorBundle:
    """The variables of one TensorFlow checkpoint; open with :meth:`open`."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        index = prefix.with_name(prefix.name + ".index")
        try:
            data = index.read_bytes()
        except OSError as exc:
            raise CheckpointError(f"{index}: cannot read ({exc.strerror})") from exc
        values = read_table(data, source=str(index))
        header = _fields(values.pop("", b""), source=f"{index} header")
        self.num_shards = int(header.get(1, [1])[0]) or 1
        if header.get(2, [0])[0] != 0:
            raise CheckpointError(f"{index}: a big-endian checkpoint; only little-endian is read")
        self.entries = {name: _entry(name, value, index) for name, value in values.items()}

    @classmethod
    def open(cls, path: Path) -> TensorBundle:
        """The checkpoint at ``path``: a folder (its ``checkpoint`` file's latest, else its
        newest ``*.index``), an ``.index`` or ``.data-*`` file, or the prefix itself."""
        return cls(checkpoint_prefix(path))

    def names(self) -> list[str]:
        return sorted(self.entries)

    def shape(self, name: str) -> tuple[int, ...]:
        return self._entry(name).shape

    def read(self, name: str) -> np.ndarray:
        """Variable ``name`` as a numpy array (bfloat16 widened to float32), CRC-checked."""
        entry = self._entry(name)
        dtype = entry.numpy_dtype
        with self._data(entry) as f:
            raw = b"".join(self._chunks(f, entry))
        array = np.frombuffer(raw, dtype=dtype).reshape(entry.shape)
        if entry.dtype == BFLOAT16:
            return (array.astype(np.uint32) << 16).view(np.float32)
        return array.astype(dtype.newbyteorder("="))

    def rows(self, name: str, rows_per_chunk: int) -> Iterator[tuple[int, np.ndarray]]:
        """A float32 2-D variable ``rows_per_chunk`` rows at a time: ``(first row, rows)``.

        The CRC is checked when the last chunk has been read; a mismatch raises there,
        so a caller builds its result from the chunks and keeps it only if the loop ends.
        """
        entry = self._entry(name)
        if entry.numpy_dtype != np.dtype("<f4") or len(entry.shape) != 2:
            raise CheckpointError(f"variable {name!r} is not a 2-D float32 tensor")
        width = entry.shape[1]
        step = max(1, rows_per_chunk) * width * 4
        with self._data(entry) as f:
            pending = b""
            row = 0
            for chunk in self._chunks(f, entry, step):
                pending += chunk
                whole = len(pending) // (width * 4)
                if whole:
                    block = np.frombuffer(pending[: whole * width * 4], dtype="<f4").copy()
                    yield row, block.reshape(whole, width)
                    row += whole
                    pending = pending[whole * width * 4 :]

    def _entry(self, name: str) -> TensorEntry:
        try:
            entry = self.entries[name]
        except KeyError:
            raise CheckpointError(f"{self.prefix}: no variable {name!r}") from None
        if entry.sliced:
            raise CheckpointError(f"variable {name!r} is saved in slices (partitioned)")
        return entry

    def _data(self, entry: TensorEntry) -> BinaryIO:
        path = self.prefix.with_name(
            f"{self.prefix.name}.data-{entry.shard:05d}-of-{self.num_shards:05d}"
        )
        try:
            return path.open("rb")
        except OSError as exc:
            raise CheckpointError(
                f"{path}: cannot read the data of {entry.name!r} ({exc.strerror})"
            ) from exc

    def _chunks(self, f: BinaryIO, entry: TensorEntry, step: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The entry's bytes in pieces of ``step``; checks the size and then the CRC."""
        f.seek(entry.offset)
        crc = 0
        left = entry.size
        while left:
            chunk = f.read(min(step, left))
            if not chunk:
                raise CheckpointError(
                    f"variable {entry.name!r}: the data file is truncated (it ends before "
                    f"byte {entry.offset + entry.size:,} of this variable)"
                )
            crc = google_crc32c.extend(crc, chunk)
            left -= len(chunk)
            if left:
                yield chunk
            else:
                if mask(crc) != entry.crc32c:
                    raise CheckpointError(
                        f"variable {entry.name!r} is corrupt: its CRC-32C does not match "
                        "the one in the index (a damaged or partly copied checkpoint)"
                    )
                yield chunk
        expected = int(np.prod(entry.shape, dtype=np.int64)) * entry.numpy_dtype.itemsize
        if entry.size != expected:
            raise CheckpointError(
                f"variable {entry.name!r}: {entry.size} bytes for shape {entry.shape}"
            )


def checkpoint_prefix(path: Path) -> Path:
    """The ``<prefix>`` of the checkpoint named by ``path`` (see :meth:`TensorBundle.open`)."""
    if path.is_dir():
        pointer = path / "checkpoint"
        if pointer.is_file():
            found = re.search(r'^model_checkpoint_path:\s*"(.+)"', pointer.read_text(), re.M)
            if found:
                # Saved paths may be absolute from another machine: the name is what counts.
                candidate = path / Path(found.group(1)).name
                if candidate.with_name(candidate.name + ".index").is_file():
                    return candidate
        indexes = sorted(path.glob("*.index"), key=_step)
        if not indexes:
            raise CheckpointError(f"{path}: no TensorFlow checkpoint (*.index) in this folder")
        return indexes[-1].with_suffix("")
    name = path.name
    if name.endswith(".index"):
        prefix = path.with_name(name.removesuffix(".index"))
    elif re.search(r"\.data-\d+-of-\d+$", name):
        prefix = path.with_name(re.sub(r"\.data-\d+-of-\d+$", "", name))
    elif name.endswith(".meta"):
        prefix = path.with_name(name.removesuffix(".meta"))
    else:
        prefix = path
    if not prefix.with_name(prefix.name + ".index").is_file():
        raise CheckpointError(f"{path}: not a TensorFlow checkpoint (no {prefix.name}.index)")
    return prefix


def _step(index: Path) -> tuple[int, str]:
    found = re.search(r"-(\d+)\.index$", index.name)
    return (int(found.group(1)) if found else -1, index.name)


def mask(crc: int) -> int:
    """LevelDB's masked CRC, as stored for blocks and tensors."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# --- the LevelDB table ----------------------------------------------------------------


def read_table(data: bytes, *, source: str) -> dict[str, bytes]:
    """Every key → value of an uncompressed LevelDB-format table held in ``data``."""
    if len(data) < FOOTER_SIZE or struct.unpack("<Q", data[-8:])[0] != TABLE_MAGIC:
        raise CheckpointError(f"{source}: not a TensorFlow checkpoint index (bad footer)")
    footer = data[-FOOTER_SIZE:]
    _meta_offset, pos = _varint(footer, 0, source)
    _meta_size, pos = _varint(footer, pos, source)
    index_offset, pos = _varint(footer, pos, source)
    index_size, pos = _varint(footer, pos, source)
    table: dict[str, bytes] = {}
    for _, handle in _block(data, index_offset, index_size, source):
        offset, pos = _varint(handle, 0, source)
        size, _ = _varint(handle, pos, source)
        for key, value in _block(data, offset, size, source):
            table[key.decode("utf-8", "replace")] = value
    return table


def _block(data: bytes, offset: int, size: int, source: str) -> Iterator[tuple[bytes, bytes]]:
    end = offset + size
    if end + BLOCK_TRAILER_SIZE > len(data):
        raise CheckpointError(f"{source}: truncated (a block runs past the end of the file)")
    kind, stored = data[end], struct.unpack("<I", data[end + 1 : end + 5])[0]
    if kind != 0:
        raise CheckpointError(f"{source}: a compressed index block (type {kind}) is not supported")
    if mask(google_crc32c.value(data[offset : end + 1])) != stored:
        raise CheckpointError(f"{source}: corrupt (a block's CRC-32C does not match)")
    (restarts,) = struct.unpack("<I", data[end - 4 : end])
    limit = end - 4 - 4 * restarts
    pos, key = offset, b""
    while pos < limit:
        shared, pos = _varint(data, pos, source)
        unshared, pos = _varint(data, pos, source)
        value_size, pos = _varint(data, pos, source)
        key = key[:shared] + data[pos : pos + unshared]
        pos += unshared
        yield key, data[pos : pos + value_size]
        pos += value_size


def _varint(data: bytes, pos: int, source: str) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise CheckpointError(f"{source}: corrupt (a number runs past its end)")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


# --- protobuf messages ----------------------------------------------------------------


def _fields(message: bytes, *, source: str) -> dict[int, list[int | bytes]]:
    """Field number → values of a protobuf message (varints, fixed ints, byte strings)."""
    fields: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(message):
        tag, pos = _varint(message, pos, source)
        number, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(message, pos, source)
        elif wire == 1:
            (value,) = struct.unpack("<Q", message[pos : pos + 8])
            pos += 8
        elif wire == 2:
            size, pos = _varint(message, pos, source)
            value = message[pos : pos + size]
            pos += size
        elif wire == 5:
            (value,) = struct.unpack("<I", message[pos : pos + 4])
            pos += 4
        else:
            raise CheckpointError(f"{source}: corrupt entry (wire type {wire})")
        fields.setdefault(number, []).append(value)
    return fields


def _entry(name: str, value: bytes, index: Path) -> TensorEntry:
    source = f"{index} entry {name!r}"
    fields = _fields(value, source=source)

    def number(field: int) -> int:
        found = fields.get(field, [0])[0]
        return found if isinstance(found, int) else 0

    dims: list[int] = []
    for shape in fields.get(2, []):
        if isinstance(shape, bytes):
            for dim in _fields(shape, source=source).get(2, []):
                if isinstance(dim, bytes):
                    size = _fields(dim, source=source).get(1, [0])[0]
                    dims.append(size if isinstance(size, int) else 0)
    return TensorEntry(
        name=name,
        dtype=number(1),
        shape=tuple(dims),
        shard=number(3),
        offset=number(4),
        size=number(5),
        crc32c=number(6),
        sliced=7 in fields,
    )
