"""Freed photo-sized blocks go back to the OS (glibc; elsewhere the calls do nothing)."""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
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


def _kernel_at_least(major: int, minor: int) -> bool:
    release = os.uname().release.split(".")
    return (int(release[0]), int(release[1].split("-")[0])) >= (major, minor)


def _resident_kb(path: Path) -> int:
    with open("/proc/self/smaps") as smaps:
        lines = smaps.readlines()
    total, inside = 0, False
    for line in lines:
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(
    memory._glibc() is None or not _kernel_at_least(5, 4), reason="Linux 5.4's MADV_PAGEOUT"
)
def test_mapped_read_only_files_are_paged_out_and_read_back_unchanged(tmp_path: Path) -> None:
    # What a compiled OpenVINO blob is once its weights are in the kernels' own layout.
    blobs, elsewhere = tmp_path / "blobs", tmp_path / "elsewhere"
    blobs.mkdir()
    elsewhere.mkdir()
    content = np.random.default_rng(0).integers(0, 255, 8 * 2**20, np.uint8).tobytes()
    (blobs / "a.blob").write_bytes(content)
    (elsewhere / "b.bin").write_bytes(content)
    with (blobs / "a.blob").open("rb") as a, (elsewhere / "b.bin").open("rb") as b:
        mapped_a = mmap.mmap(a.fileno(), 0, prot=mmap.PROT_READ)
        mapped_b = mmap.mmap(b.fileno(), 0, prot=mmap.PROT_READ)
        assert hashlib.sha256(mapped_a).digest() == hashlib.sha256(mapped_b).digest()
        assert _resident_kb(blobs / "a.blob") >= 7 * 1024

        assert memory.page_out_files(blobs) >= len(content)

        assert _resident_kb(blobs / "a.blob") < 1024
        assert _resident_kb(elsewhere / "b.bin") >= 7 * 1024  # only under the folder given
        assert mapped_a[:] == content  # read back from the file
        mapped_a.close()
        mapped_b.close()
