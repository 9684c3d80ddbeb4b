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

Jobs that a worker ends or hands back need not wait for the next tick: the store tells the
hub (:meth:`WatchHub.moved`) of its own process's workers' moves, and on PostgreSQL of every
process's (``NOTIFY`` on ``pixserve_moves``). The hub drops that job's view, so the next
status call reads the finished job, and ticks early, at most every
:data:`MOVED_TICK_GAP` seconds, so its watchers hear of it at once. Before, a result was
shown up to half a second after it was stored.

The hub also answers status calls (``GET /v1/jobs/{id}``). A job polled in the last
:data:`FOLLOW_SECONDS` is read with the watched ones each tick, and a call finds its view
there when it is at most :attr:`WatchHub.fresh_for` old, with no thread hand-off and no
statement of its own. A crowd polling once a second then costs one read per tick, not one per
call. A call that finds nothing fresh reads the job itself (:meth:`WatchHub.remember`), and
deleting a job forgets it at once (:meth:`WatchHub.forget`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from pixserve.core.errors import JobNotFound, PixserveError
from pixserve.services.views import JobView

log = logging.getLogger(__name__)

#: What a watcher receives: a view, or the error that ends its stream.
Update = JobView | PixserveError

#: How long after its last status call a job is still read with every tick.
FOLLOW_SECONDS = 5.0
#: The least time between two ticks that moves woke (a busy GPU ends hundreds a second);
#: such a tick reads only the jobs that moved.
MOVED_TICK_GAP = 0.05
#: How long a move is remembered: a read that began before it is not kept as fresh.
MOVE_MEMORY_S = 10.0


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
        #: The oldest view a status call is answered from: a tick's read plus some slack for
        #: the read itself, so a steady poller does not fall between two ticks.
        self.fresh_for = interval * 1.5
        self._watchers: dict[str, set[Watcher]] = {}
        self._polled: dict[str, float] = {}  # job id → loop time of its last status call
        self._latest: dict[str, tuple[float, JobView]] = {}  # job id → (when read, view)
        self._moved_at: dict[str, float] = {}  # job id → loop time of its last move
        #: Moved or newly watched since the last tick: an early tick reads just these.
        self._moved_since: set[str] = set()
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
        self._start()
        watcher = Watcher(job_id)
        self._watchers.setdefault(job_id, set()).add(watcher)
        self._moved_since.add(job_id)  # its first update: read it at once, it alone
        self._wake.set()
        return watcher

    def poll(self, job_id: str) -> JobView | None:
        """A status call for ``job_id``: the view a tick read within :attr:`fresh_for`, or
        None (then read it and :meth:`remember` it). A job the hub holds is followed for
        :data:`FOLLOW_SECONDS` from now; an id it never read is not (calls for made-up ids
        must not grow every tick's read). Call from the event loop."""
        now = self._start()
        latest = self._latest.get(job_id)
        if latest is None:
            return None
        self._polled[job_id] = now
        return latest[1] if now - latest[0] <= self.fresh_for else None

    def remember(self, job_id: str, view: JobView, *, read_at: float | None = None) -> None:
        """Keep ``view``, just read by a caller (its read began at loop time ``read_at``),
        for the next status calls, and follow the job from now on. A view whose read began
        before the job's last move is not kept: it may show the job as it was."""
        now = self._start()
        self._polled[job_id] = now
        if read_at is None or not self._moved_after(job_id, read_at):
            self._latest[job_id] = (now, view)

    def now(self) -> float:
        """The hub's clock (its loop's time): when a caller's own read begins."""
        return self._start()

    def forget(self, job_id: str) -> None:
        """Drop what the hub knows of ``job_id`` (it was deleted): the next call reads, and
        a read under way when it was deleted is not kept."""
        self._unfollow(job_id)
        if self._loop is not None:
            self._note_move(job_id, self._loop.time())

    def _unfollow(self, job_id: str) -> None:
        self._latest.pop(job_id, None)
        self._polled.pop(job_id, None)

    def moved(self, job_id: str) -> None:
        """A worker has just ended ``job_id`` or handed it back: forget its view and tick
        early. Thread-safe (workers and listeners call it from their own threads); a no-op
        before the hub first runs or once its loop is closed."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._moved, job_id)

    def _moved(self, job_id: str) -> None:
        assert self._loop is not None
        self._note_move(job_id, self._loop.time())
        self._latest.pop(job_id, None)
        if job_id in self._polled or job_id in self._watchers:
            self._moved_since.add(job_id)
            self._wake.set()

    def _note_move(self, job_id: str, now: float) -> None:
        """Remember when ``job_id`` moved, forgetting moves older than MOVE_MEMORY_S."""
        moves = self._moved_at
        moves.pop(job_id, None)  # re-inserted last: the dict stays in time order
        while moves:
            oldest = next(iter(moves))
            if now - moves[oldest] <= MOVE_MEMORY_S:
                break
            del moves[oldest]
        moves[job_id] = now

    def _moved_after(self, job_id: str, since: float) -> bool:
        moved = self._moved_at.get(job_id)
        return moved is not None and moved >= since

    def unsubscribe(self, watcher: Watcher) -> None:
        """Stop delivering to ``watcher`` (its connection closed or its stream ended)."""
        watchers = self._watchers.get(watcher.job_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[watcher.job_id]

    def _start(self) -> float:
        """Make sure the hub's task runs on the current loop; the loop's time now."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new loop (tests start one per client): start afresh
            self._watchers, self._polled, self._latest = {}, {}, {}
            self._moved_at, self._moved_since = {}, set()
            self._task, self._loop, self._wake = None, loop, asyncio.Event()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="pixserve-watch-hub")
        return loop.time()

    async def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        # A first status call has just read its job; a first watcher wakes the hub for its
        # own job: either way a full read can wait an interval.
        last, last_full = -math.inf, loop.time()
        while self._watchers or self._polled:
            until_full = max(0.0, last_full + self.interval - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), until_full)
            await asyncio.sleep(max(0.0, last + MOVED_TICK_GAP - loop.time()))
            self._wake.clear()
            last = loop.time()
            # What moved until now is read by this tick; later moves wait for the next.
            only, self._moved_since = self._moved_since, set()
            if last - last_full >= self.interval:
                last_full = last
                await self.tick()
            else:
                await self.tick(only=only)

    async def tick(self, *, only: Collection[str] | None = None) -> None:
        """Read every watched or recently polled job (or those of them in ``only``) once
        and deliver what was read."""
        assert self._loop is not None
        started = self._loop.time()
        for job_id in [i for i, t in self._polled.items() if started - t > FOLLOW_SECONDS]:
            self._unfollow(job_id)
        ids = list(self._watchers.keys() | self._polled.keys())
        if only is not None:
            ids = [i for i in ids if i in only]
        if not ids:
            return
        try:
            views = await run_in_threadpool(self._views, ids)
        except PixserveError as exc:
            self._latest.clear()  # status calls read for themselves and see the error
            for job_id in ids:
                self._end(job_id, exc)
            return
        except Exception:  # a bug or a driver error: keep the hub alive, try next tick
            log.exception("the event hub could not read %d jobs", len(ids))
            return
        for job_id in ids:
            view = views.get(job_id)
            if job_id in self._polled:
                if view is None:
                    self.forget(job_id)
                elif not self._moved_after(job_id, started):  # else it may be stale
                    self._latest[job_id] = (started, view)
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


def hub_of(app: Starlette) -> WatchHub:
    """``app``'s hub, made at first use over its context's ``JobService.views`` and
    ``event_poll_seconds``: one per app, so one per web process."""
    hub: WatchHub | None = getattr(app.state, "watch_hub", None)
    if hub is None:
        ctx = app.state.ctx
        hub = app.state.watch_hub = WatchHub(
            ctx.jobs.views, interval=ctx.settings.event_poll_seconds
        )
    return hub
