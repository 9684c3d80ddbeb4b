"""Giving freed memory back to the operating system.

A worker frees hundreds of megabytes after each photo (decoded pixels, model activations),
but glibc's allocator keeps freed heap pages in the process, so its resident size only
ever grows to the largest mix of sizes it has seen. Two calls into glibc (elsewhere, musl
or macOS, they do nothing):

- :func:`map_large_blocks` makes every block of 1 MB or more its own mapping, given back
  the moment it is freed. By default glibc raises that threshold (up to 32 MB) each time a
  large block is freed, after which a photo's arrays come from the heap and stay there.
- :func:`release_free_heap` returns the heap's free pages (``malloc_trim``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

#: ``M_MMAP_THRESHOLD`` in glibc's ``malloc.h``.
_M_MMAP_THRESHOLD = -3
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
