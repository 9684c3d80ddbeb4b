import threading
import time

import pytest

from pixserve.services.jobs import JobService
from pixserve.services.ttl_cache import TtlCache


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_keeps_a_value_for_its_ttl_then_loads_again():
    ticks = Ticks()
    cache: TtlCache[int] = TtlCache(1.0, clock=ticks)
    loads = iter(range(10))
    assert cache.get("k", lambda: next(loads)) == 0
    ticks.now += 0.9
    assert cache.get("k", lambda: next(loads)) == 0
    assert cache.get("other", lambda: next(loads)) == 1
    ticks.now += 0.1
    assert cache.get("k", lambda: next(loads)) == 2
    cache.clear()
    assert cache.get("k", lambda: next(loads)) == 3


def test_zero_ttl_loads_every_time_and_errors_are_not_kept():
    cache: TtlCache[int] = TtlCache(0.0)
    loads = iter(range(10))
    assert [cache.get("k", lambda: next(loads)) for _ in range(3)] == [0, 1, 2]
    kept: TtlCache[int] = TtlCache(5.0)

    def boom() -> int:
        raise RuntimeError("db down")

    with pytest.raises(RuntimeError):
        kept.get("k", boom)
    assert kept.get("k", lambda: 7) == 7


def test_concurrent_callers_share_one_load():
    cache: TtlCache[int] = TtlCache(10.0)
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(16)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 16 and len(calls) == 1


class CountingStore:
    """Counts the ETA-input reads a service makes of the store it wraps."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.reads: dict[str, int] = {}

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name in ("run_stats", "running", "active_workers"):

            def counted(*a, **k):
                self.reads[name] = self.reads.get(name, 0) + 1
                return attr(*a, **k)

            return counted
        return attr


def test_status_reads_the_eta_inputs_once_per_interval(jobs, blobs, catalog, settings, small_jpeg):
    from pixserve.services import Submission

    ticks = Ticks()
    store = CountingStore(jobs)
    service = JobService(
        store,
        blobs,
        catalog,
        settings,
        eta_cache_seconds=1.0,
        monotonic=ticks,  # type: ignore[arg-type]
    )
    ids = [service.submit(Submission(small_jpeg, "invert")).id for _ in range(3)]
    for _ in range(50):
        for job_id in ids:
            service.status(job_id)
    assert store.reads == {"run_stats": 1, "running": 1, "active_workers": 1}
    ticks.now += 1.0
    service.status(ids[0])
    assert store.reads == {"run_stats": 2, "running": 2, "active_workers": 2}
