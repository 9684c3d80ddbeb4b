from __future__ import annotations

import sys

import numpy as np
import pytest

from pixserve.core.memory import release_free_heap


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_heap_goes_back_to_the_os() -> None:
    # Many small blocks (below glibc's mmap threshold) live on the heap; freeing them
    # leaves the pages in the process until malloc_trim returns them.
    blocks = [np.ones(8_000, dtype=np.uint8) for _ in range(40_000)]  # ~320 MB of heap
    keep = blocks[-1]  # a block at the top would pin the heap's end; trim still frees the rest
    del blocks
    before = _rss_kb()
    assert release_free_heap()
    assert _rss_kb() < before - 100_000
    assert keep.sum() == 8_000
