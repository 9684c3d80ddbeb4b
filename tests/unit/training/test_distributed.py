"""Leaving a ``torchrun`` process group: orderly after a finished run, at once after an error."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch

from pixserve.training import distributed, runner
from pixserve.training.distributed import Cluster


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What ``close`` asked of the garbage collector and of ``torch.distributed``, in order."""
    seen: list[str] = []
    dist = distributed.dist
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "barrier", lambda: seen.append("barrier"))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: seen.append("destroy"))

    def collect() -> int:
        seen.append("collect")
        return 0

    monkeypatch.setattr(distributed.gc, "collect", collect)
    return seen


def two_ranks() -> Cluster:
    return Cluster(torch.device("cpu"), rank=1, world_size=2, local_rank=1, local_world_size=2)


def test_a_finished_rank_frees_its_wrappers_and_waits_before_leaving(calls: list[str]) -> None:
    two_ranks().close()
    assert calls == ["collect", "barrier", "destroy"]


def test_a_failed_rank_leaves_without_waiting_for_its_peers(calls: list[str]) -> None:
    two_ranks().close(clean=False)
    assert calls == ["destroy"]


def test_a_single_process_has_no_group_to_leave(calls: list[str]) -> None:
    Cluster(torch.device("cpu")).close()
    assert calls == []


class Recording(Cluster):
    closes: list[bool]

    def close(self, *, clean: bool = True) -> None:
        self.closes.append(clean)


@pytest.mark.parametrize("fails", [False, True])
def test_train_closes_cleanly_only_after_a_run_that_returned(
    monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    cluster = Recording(torch.device("cpu"), rank=0, world_size=2)
    object.__setattr__(cluster, "closes", [])
    monkeypatch.setattr(runner, "join", lambda device: cluster)

    def run(*args: Any) -> str:
        if fails:
            raise OSError("disk full")
        return "result"

    monkeypatch.setattr(runner, "_train_on", run)
    config: Any = SimpleNamespace(arch="pix2pix", loop=SimpleNamespace(device="cpu"))
    if fails:
        with pytest.raises(OSError, match="disk full"):
            runner.train(config, run=None, session=runner.Session())  # type: ignore[arg-type]
    else:
        assert runner.train(config, run=None, session=runner.Session()) == "result"  # type: ignore[arg-type]
    assert cluster.closes == [not fails]
