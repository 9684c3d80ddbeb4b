"""Freed photo-sized blocks go back to the OS (glibc; elsewhere the calls do nothing)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pixserve.core import memory

# A 50 MB block freed raises glibc's own mmap threshold, so the next 20 MB block comes from
# the heap and stays resident once freed; mapped on their own, both leave nothing behind.
PROGRAM = """
import sys, numpy as np
from pixserve.core import memory
if sys.argv[1] == "mapped":
    assert memory.map_large_blocks()
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) // 1024
before = rss()
for mb in (50, 20, 20):
    block = np.ones(mb * 2**20, np.uint8)
    del block
print(rss() - before)
"""


@pytest.mark.skipif(memory._glibc() is None, reason="glibc only")
def test_a_freed_photo_sized_block_leaves_nothing_resident() -> None:
    def kept(mode: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True
        )
        return int(out.stdout)

    assert kept("default") >= 15  # glibc's dynamic threshold: the 20 MB stayed in the heap
    assert kept("mapped") <= 2
