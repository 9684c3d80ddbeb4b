"""Giving freed memory back to the operating system.

A worker frees hundreds of megabytes after each photo (decoded pixels, model activations),
but glibc's allocator keeps freed heap pages in the process, so its resident size only
ever grows to the largest mix of sizes it has seen. Two calls into glibc (elsewhere, musl
or macOS, they do nothing):

- :func:`map_large_blocks` makes every block of 1 MB or more its own mapping, given back
  the moment it is freed. By default glibc raises that threshold (up to 32 MB) each time a
  large block is freed, after which a photo's arrays come from the heap and stay there.
- :func:`release_free_heap` returns the heap's free pages (``malloc_trim``).

And one call into Linux: :func:`page_out_files` drops the pages of read-only files mapped
from a folder (OpenVINO's compiled blobs, whose weights are read once, when the kernels are
prepared, and then sit in the process's resident size).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path
from typing import Any

#: ``M_MMAP_THRESHOLD`` in glibc's ``malloc.h``.
_M_MMAP_THRESHOLD = -3
#: ``MADV_PAGEOUT`` (Linux 5.4): reclaim these pages now. It never changes their content:
#: a file's pages are read back from the file if touched again.
_MADV_PAGEOUT = 21
#: Blocks at least this large are mapped on their own (glibc's default starts at 128 KiB).
LARGE_BLOCK_BYTES = 1 << 20


@functools.cache
def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    except (OSError, AttributeError):  # not glibc
        return None
    return libc


def map_large_blocks() -> bool:
    """Map blocks of :data:`LARGE_BLOCK_BYTES` or more on their own, at a fixed threshold;
    whether the C library could do it. Once per process, at start."""
    libc = _glibc()
    return libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) == 1


def release_free_heap() -> bool:
    """Return the heap's free pages to the OS; whether the C library could do it."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def page_out_files(directory: Path) -> int:
    """Drop this process's resident pages of the read-only files mapped from under
    ``directory``; the bytes of mappings the kernel accepted (0 off Linux, or before 5.4).

    The file stays mapped: a later read faults its pages back in from the page cache.
    """
    libc = _glibc()
    if libc is None:
        return 0
    prefix = str(directory.resolve()) + "/"
    advised = 0
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.readlines()
    except OSError:
        return 0
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or "w" in fields[1] or not fields[5].startswith(prefix):
            continue
        low, high = (int(end, 16) for end in fields[0].split("-"))
        if libc.madvise(low, high - low, _MADV_PAGEOUT) == 0:
            advised += high - low
    return advised
