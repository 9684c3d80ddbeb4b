"""``WatchHub``: one poll per web process for every server-sent-events watcher.

Before the hub each ``GET /v1/jobs/{id}/events`` connection re-read its job every half
second (five or six statements), so a thousand watchers cost about ten thousand statements a
second. The hub keeps one task per process (per event loop) that, every ``interval``, reads
the views of *all* watched jobs at once (``JobService.views``: one read of the jobs, one of
the queue ahead of the queued ones, and the cached ETA inputs) and fans each view out to the
connections watching that job, each through its own ``asyncio.Queue``.

* A queue holds only the newest view: a slow connection skips states, it never piles them up.
* A job that reached a terminal status is delivered once more and its watchers are dropped;
  a job that is gone (deleted) ends its watchers with ``JobNotFound``; an error of the read
  itself (``Unavailable``) ends every watcher with that error, as the per-connection loop did.
* ``unsubscribe`` (a disconnect) removes a watcher; the task stops when nobody watches and
  starts again with the next watcher, so there is nothing to stop at shutdown.

One hub per process is enough on PostgreSQL too: ``LISTEN`` would only shorten the half
second between a move and its event, not save a read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from pixserve.core.errors import JobNotFound, PixserveError
from pixserve.services.views import JobView

log = logging.getLogger(__name__)

#: What a watcher receives: a view, or the error that ends its stream.
Update = JobView | PixserveError


@dataclass(eq=False)
class Watcher:
    """One connection's subscription: the job it follows and its one-slot queue."""

    job_id: str
    queue: asyncio.Queue[Update] = field(default_factory=lambda: asyncio.Queue(maxsize=1))

    def offer(self, update: Update) -> None:
        """Replace whatever the connection has not read yet with ``update``."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(update)


class WatchHub:
    """Fans the views of watched jobs out to their watchers, from one read per tick.

    ``views`` maps job ids to the views of those that exist (``JobService.views``); it runs
    in the thread pool. ``interval`` is the seconds between reads.
    """

    def __init__(
        self,
        views: Callable[[Collection[str]], Mapping[str, JobView]],
        *,
        interval: float = 0.5,
    ) -> None:
        self._views = views
        self.interval = interval
        self._watchers: dict[str, set[Watcher]] = {}
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    @property
    def watched(self) -> int:
        """How many watchers there are now."""
        return sum(len(w) for w in self._watchers.values())

    def subscribe(self, job_id: str) -> Watcher:
        """A new watcher of ``job_id``; its first update comes with the next tick. Call from
        the event loop, and pair with :meth:`unsubscribe`."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new loop (tests start one per client): start afresh
            self._watchers, self._task, self._loop = {}, None, loop
            self._wake = asyncio.Event()
        watcher = Watcher(job_id)
        self._watchers.setdefault(job_id, set()).add(watcher)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="pixserve-watch-hub")
        self._wake.set()
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        """Stop delivering to ``watcher`` (its connection closed or its stream ended)."""
        watchers = self._watchers.get(watcher.job_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[watcher.job_id]

    async def _run(self) -> None:
        while self._watchers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self.tick()

    async def tick(self) -> None:
        """Read every watched job once and deliver what was read (one hub step)."""
        ids = list(self._watchers)
        if not ids:
            return
        try:
            views = await run_in_threadpool(self._views, ids)
        except PixserveError as exc:
            for job_id in ids:
                self._end(job_id, exc)
            return
        except Exception:  # a bug or a driver error: keep the hub alive, try next tick
            log.exception("the event hub could not read %d jobs", len(ids))
            return
        for job_id in ids:
            view = views.get(job_id)
            if view is None:
                self._end(job_id, JobNotFound())
            elif view.status.is_terminal:
                self._end(job_id, view)
            else:
                for watcher in tuple(self._watchers.get(job_id, ())):
                    watcher.offer(view)

    def _end(self, job_id: str, update: Update) -> None:
        """Give ``job_id``'s watchers their last update and forget them."""
        for watcher in self._watchers.pop(job_id, set()):
            watcher.offer(update)


def hub_of(
    app: Starlette, views: Callable[[Collection[str]], Mapping[str, JobView]], *, interval: float
) -> WatchHub:
    """``app``'s hub (made at its first watcher, over ``views``): one per app, so one per
    web process."""
    hub: WatchHub | None = getattr(app.state, "watch_hub", None)
    if hub is None:
        hub = app.state.watch_hub = WatchHub(views, interval=interval)
    return hub
