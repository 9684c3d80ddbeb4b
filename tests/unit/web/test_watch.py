import asyncio
import json
import threading
import time

import pytest
from fastapi.testclient import TestClient

from pixserve.core.errors import JobNotFound, Unavailable
from pixserve.domain import JobStatus
from pixserve.services import Submission
from pixserve.web import AppContext, create_app
from pixserve.web.watch import WatchHub, hub_of
from pixserve.worker import Worker


class CountedViews:
    """``JobService.views`` that counts its calls (each is one read of the job store)."""

    def __init__(self, service) -> None:
        self.service = service
        self.calls: list[list[str]] = []
        self.error: Exception | None = None

    def __call__(self, ids):
        self.calls.append(sorted(ids))
        if self.error is not None:
            raise self.error
        return self.service.views(ids)


async def _until(condition, timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds; a busy machine may be slow, never fail early."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def _ended(hub: WatchHub, timeout: float = 5.0) -> None:
    """Wait for the hub's task to end (it does once nothing is watched or followed)."""
    assert hub._task is not None
    await asyncio.wait_for(asyncio.shield(hub._task), timeout)


@pytest.fixture
def submit(service, small_jpeg):
    return lambda: service.submit(Submission(small_jpeg, "invert")).id


def test_one_read_per_tick_fans_out_to_every_watcher(service, submit):
    ids = [submit() for _ in range(3)]
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=60)
        watchers = [hub.subscribe(ids[i % 3]) for i in range(300)]
        got = [await asyncio.wait_for(w.queue.get(), 1) for w in watchers]
        assert views.calls == [sorted(ids)]  # one read for 300 watchers of 3 jobs
        assert [g.id for g in got] == [w.job_id for w in watchers]
        assert {g.position for g in got} == {0, 1, 2}
        await hub.tick()  # (the hub's own task sleeps: interval=60, nothing new to watch)
        await hub.tick()  # an unread update is replaced, never queued behind
        assert len(views.calls) == 3 and all(w.queue.qsize() == 1 for w in watchers)
        for w in watchers:
            hub.unsubscribe(w)
        assert hub.watched == 0

    asyncio.run(scenario())


def test_terminal_and_deleted_jobs_end_their_watchers(service, jobs, submit):
    done, gone, waiting = submit(), submit(), submit()
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=60)
        a, b, c = hub.subscribe(done), hub.subscribe(gone), hub.subscribe(waiting)
        jobs.cancel(done)
        jobs.delete(gone)
        assert (await asyncio.wait_for(a.queue.get(), 1)).status is JobStatus.CANCELED
        assert isinstance(await asyncio.wait_for(b.queue.get(), 1), JobNotFound)
        assert (await asyncio.wait_for(c.queue.get(), 1)).status is JobStatus.QUEUED
        assert hub.watched == 1
        hub.unsubscribe(a)  # after the hub dropped it: harmless
        await hub.tick()
        assert views.calls[-1] == [waiting]

    asyncio.run(scenario())


def test_a_failed_read_ends_every_stream_with_its_error(service, submit):
    views = CountedViews(service)
    views.error = Unavailable()

    async def scenario():
        hub = WatchHub(views, interval=60)
        watcher = hub.subscribe(submit())
        assert isinstance(await asyncio.wait_for(watcher.queue.get(), 1), Unavailable)
        assert hub.watched == 0

    asyncio.run(scenario())


def test_the_task_polls_while_watched_and_stops_when_nobody_watches(service, submit):
    job_id = submit()
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=0.01)
        watchers = [hub.subscribe(job_id) for _ in range(5)]
        first = await asyncio.wait_for(watchers[0].queue.get(), 1)
        assert first.id == job_id
        await _until(lambda: len(views.calls) >= 2)
        for w in watchers:
            hub.unsubscribe(w)
        await _ended(hub)
        calls = len(views.calls)
        await asyncio.sleep(0.05)
        assert len(views.calls) == calls  # no reads for nobody

    asyncio.run(scenario())


@pytest.fixture
def client(service, translator, catalog, settings):
    fast = settings.model_copy(update={"event_poll_seconds": 0.05})
    ctx = AppContext(settings=fast, jobs=service, translate=translator, catalog=catalog)
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        yield c


def test_events_follow_a_job_to_its_end_through_the_hub(
    client, jobs, blobs, renderer, settings, small_jpeg
):
    job_id = client.post(
        "/v1/jobs",
        files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
        data={"style": "invert"},
    ).json()["id"]
    worker = Worker(jobs, blobs, renderer, settings)
    # The job runs once its first event has been read: "queued" is seen however slow.
    lines = _stream_lines(client, job_id, then=worker.run_once)
    events = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert events[0]["status"] == "queued" and events[-1]["status"] == "succeeded"
    assert len({json.dumps(e) for e in events}) == len(events)  # only changes are sent
    assert client.app.state.watch_hub.watched == 0


def test_events_of_a_deleted_job_end_canceled_or_not_found(client, small_jpeg):
    job_id = client.post(
        "/v1/jobs",
        files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
        data={"style": "invert"},
    ).json()["id"]
    lines = _stream_lines(client, job_id, then=lambda: client.delete(f"/v1/jobs/{job_id}"))
    # A delete cancels the job, then removes it: a hub tick between the two sees it
    # canceled (a finished job's last event); after both, the job is not found.
    last = [line for line in lines if line.startswith(("event:", "data:"))][-2:]
    assert last[0] in ("event: error", "event: status")
    if last[0] == "event: error":
        assert '"job_not_found"' in last[1]
    else:
        assert json.loads(last[1].removeprefix("data:"))["status"] == "canceled"


def test_translate_is_woken_by_the_worker_s_move_not_by_reads(
    service, translator, catalog, settings, jobs, blobs, renderer, small_jpeg, monkeypatch
):
    """A waiting translate call hears of its job's end from the worker's move: with its own
    reads and the hub's full ticks an hour apart it still answers as soon as the job is
    done, and leaves no watcher, whether it waited or not."""
    monkeypatch.setattr("pixserve.web.routes.translate.FALLBACK_SECONDS", 3600.0)
    slow = settings.model_copy(update={"event_poll_seconds": 3600.0})
    ctx = AppContext(
        settings=slow,
        jobs=service,
        translate=translator,
        catalog=catalog,
        watch_moves=jobs.watch_moves,
    )
    worker = Worker(jobs, blobs, renderer, settings)
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        stop = threading.Event()

        def work() -> None:  # the job, once the call waits on it through the hub
            while not stop.is_set() and not (hub_of(client.app).watched and worker.run_once()):
                stop.wait(0.02)

        runner = threading.Thread(target=work, daemon=True)
        runner.start()
        try:
            started = time.monotonic()
            response = client.post(
                "/v1/translate?wait=30",
                files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
                data={"style": "invert"},
            )
            waited = time.monotonic() - started
        finally:
            stop.set()
            runner.join()
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        assert waited < 25  # without the move: at the end of the wait, 30 s
        assert hub_of(client.app).watched == 0
        accepted = client.post(
            "/v1/translate?wait=0",
            files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
            data={"style": "invert"},
        )
        assert accepted.status_code == 202 and hub_of(client.app).watched == 0


def _stream_lines(client: TestClient, job_id: str, *, then) -> list[str]:
    """The lines of the job's event stream; ``then`` runs, in a thread, once the first
    event has arrived."""
    lines: list[str] = []
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data:") and sum(x.startswith("data:") for x in lines) == 1:
                threading.Thread(target=then, daemon=True).start()
    return lines


# -- status calls answered by the hub ---------------------------------------------------


def test_a_polled_job_is_read_with_each_tick_and_answered_from_it(service, jobs, submit):
    job_id, other = submit(), submit()
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=60)
        assert hub.poll(job_id) is None  # nothing yet: the caller reads it
        hub.remember(job_id, service.status(job_id))
        assert hub.poll(job_id).position == 0  # the next call needs no read of its own
        jobs.cancel(job_id)
        await hub.tick()
        assert views.calls == [[job_id]]  # only polled or watched jobs are read, not `other`
        assert hub.poll(job_id).status is JobStatus.CANCELED
        assert hub.poll(other) is None

    asyncio.run(scenario())


def test_a_view_older_than_fresh_for_is_not_served(service, submit):
    job_id = submit()

    async def scenario():
        hub = WatchHub(CountedViews(service), interval=60)
        hub.remember(job_id, service.status(job_id))
        hub.fresh_for = 0.01
        await asyncio.sleep(0.03)
        assert hub.poll(job_id) is None

    asyncio.run(scenario())


def test_a_job_nobody_polls_any_more_is_no_longer_read(service, submit, monkeypatch):
    job_id = submit()
    views = CountedViews(service)
    monkeypatch.setattr("pixserve.web.watch.FOLLOW_SECONDS", 0.3)

    async def scenario():
        hub = WatchHub(views, interval=0.01)
        assert hub.poll("made-up") is None  # never read: not followed
        hub.remember(job_id, service.status(job_id))
        await _ended(hub)  # followed for 0.3 s, then dropped
        assert all(ids == [job_id] for ids in views.calls)
        calls = len(views.calls)
        assert calls >= 1
        await asyncio.sleep(0.05)
        assert len(views.calls) == calls

    asyncio.run(scenario())


def test_status_calls_share_the_hubs_reads_and_a_delete_is_seen_at_once(client, small_jpeg):
    job_id = client.post(
        "/v1/jobs",
        files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
        data={"style": "invert"},
    ).json()["id"]
    ctx = client.app.state.ctx
    client.app.state.watch_hub = WatchHub(ctx.jobs.views, interval=60)  # nothing goes stale
    reads: list[str] = []
    status = ctx.jobs.status

    def counted(i: str):
        reads.append(i)
        return status(i)

    ctx.jobs.status = counted
    try:
        first = client.get(f"/v1/jobs/{job_id}")
        second = client.get(f"/v1/jobs/{job_id}")
        assert first.json() == second.json() and first.json()["status"] == "queued"
        assert reads == [job_id]  # the second call was answered from the hub
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 200
        assert client.get(f"/v1/jobs/{job_id}").json()["error"]["code"] == "job_not_found"
    finally:
        ctx.jobs.status = status


# -- jobs ended by this process's workers -------------------------------------------------


def test_a_job_a_worker_here_ends_is_shown_at_once_not_at_the_next_tick(
    service, jobs, blobs, renderer, settings, submit
):
    job_id = submit()
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=60)  # the regular tick would come after a minute
        hub.remember(job_id, service.status(job_id))
        watcher = hub.subscribe(job_id)
        assert (await asyncio.wait_for(watcher.queue.get(), 1)).status is JobStatus.QUEUED
        unwatch = jobs.watch_moves(hub.moved)
        try:
            worker = Worker(jobs, blobs, renderer, settings)
            await asyncio.get_running_loop().run_in_executor(None, worker.run_once)
            ended = await asyncio.wait_for(watcher.queue.get(), 5)
            assert ended.status is JobStatus.SUCCEEDED
            assert hub.poll(job_id).status is JobStatus.SUCCEEDED  # no stale "queued"
        finally:
            unwatch()

    asyncio.run(scenario())


def test_moves_are_ignored_before_the_hub_runs_and_after_its_loop_closes(service, submit):
    hub = WatchHub(CountedViews(service), interval=60)
    hub.moved("any")  # no loop yet: nothing to tell

    async def scenario():
        job_id = submit()
        hub.remember(job_id, service.status(job_id))

    asyncio.run(scenario())
    hub.moved("any")  # that loop is closed now: no error


def test_a_view_read_before_a_move_is_not_kept_as_fresh(service, jobs, submit):
    job_id = submit()
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=60)
        read_at = hub.now()
        queued = service.status(job_id)
        hub._moved(job_id)  # the job moved while that read was on its way
        hub.remember(job_id, queued, read_at=read_at)
        assert hub.poll(job_id) is None  # the next call reads for itself
        await asyncio.sleep(0.01)  # a clock that has moved on since the move
        hub.remember(job_id, queued, read_at=hub.now())
        assert hub.poll(job_id) is queued  # a read begun after the move is kept

        def moves_during_the_read(ids):  # a tick's read, and a move before it returns
            found = service.views(ids)
            jobs.cancel(job_id)
            hub.moved(job_id)
            return found

        hub._views = moves_during_the_read
        await hub.tick()
        await _until(lambda: job_id in hub._moved_since)  # the move has reached the loop
        assert hub.poll(job_id) is None  # not the "queued" it read
        await asyncio.sleep(0.01)
        hub._views = views
        await hub.tick(only={job_id})
        assert hub.poll(job_id).status is JobStatus.CANCELED

    asyncio.run(scenario())


def test_a_tick_that_moves_woke_reads_only_the_jobs_that_moved(
    service, jobs, blobs, renderer, settings, submit
):
    job_id, other = submit(), submit()
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=60)
        watchers = [hub.subscribe(job_id), hub.subscribe(other)]
        for watcher in watchers:
            await asyncio.wait_for(watcher.queue.get(), 1)
        assert views.calls == [sorted([job_id, other])]
        unwatch = jobs.watch_moves(hub.moved)
        try:
            worker = Worker(jobs, blobs, renderer, settings)
            await asyncio.get_running_loop().run_in_executor(None, worker.run_once)
            done = [w for w in watchers if jobs.get(w.job_id).status is JobStatus.SUCCEEDED]
            (watcher,) = done  # the worker ran one of the two
            ended = await asyncio.wait_for(watcher.queue.get(), 5)
            assert ended.status is JobStatus.SUCCEEDED
            assert views.calls[1:] == [[watcher.job_id]]  # not the other, which did not move
        finally:
            unwatch()

    asyncio.run(scenario())


def test_an_app_with_workers_beside_it_hears_of_their_moves_until_it_stops(
    service, jobs, blobs, renderer, translator, catalog, settings, small_jpeg
):
    slow = settings.model_copy(update={"event_poll_seconds": 60})
    ctx = AppContext(
        settings=slow, jobs=service, translate=translator, catalog=catalog,
        watch_moves=jobs.watch_moves,
    )  # fmt: skip
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        job_id = client.post(
            "/v1/jobs",
            files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
            data={"style": "invert"},
        ).json()["id"]
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
        Worker(jobs, blobs, renderer, settings).run_once()
        # Answered from the hub otherwise, whose next read is a minute away.
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded"
        assert jobs._move_listeners._callbacks
    assert not jobs._move_listeners._callbacks  # the app stopped listening with its lifespan


def test_moves_never_pile_up_and_full_reads_go_on_while_jobs_keep_moving(service, jobs, submit):
    busy, quiet = submit(), submit()
    views = CountedViews(service)

    async def scenario():
        hub = WatchHub(views, interval=0.3)
        hub.remember(busy, service.status(busy))  # followed: its moves wake the hub
        watcher = hub.subscribe(quiet)
        assert (await asyncio.wait_for(watcher.queue.get(), 1)).status is JobStatus.QUEUED
        jobs.cancel(quiet)  # no worker moved it: only a full read finds out
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while watcher.queue.empty():
            assert loop.time() < deadline, "the quiet job was never read again"
            hub.moved(busy)
            hub.poll(busy)  # still followed
            await asyncio.sleep(0.02)
        assert (await watcher.queue.get()).status is JobStatus.CANCELED
        assert any(ids == [busy] for ids in views.calls)  # early reads of the busy one alone
        hub.moved(busy)
        hub.forget(busy)  # deleted before the early tick that its move asked for
        await _until(lambda: not hub._moved_since)
        assert len(hub._moved_at) <= 2

    asyncio.run(scenario())
