"""Jobs whose worker died on this host go back to the queue at once, not when the lease ends.

A worker's id names its host and process (``host-pid-random``). After a ``kill -9`` or an
out-of-memory kill, the job it held stays ``running`` until its lease runs out (30 s by
default, minutes for slow styles). A worker on the same host can see that the holder's
process is gone and end the lease now; the next claim re-queues the job exactly as an
expired lease is re-queued (same attempt counting), so a crash loop still ends in failure.

A pid can be reused: if the holder's pid is alive, the lease is left to run out (the safe
side). A container restarted with the same hostname restarts its pids too, so a holder
with this very process's pid but an id this process never gave out is dead.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass

from pixserve.queue.store import JobStore

log = logging.getLogger(__name__)

_ours: set[str] = set()
_ours_lock = threading.Lock()


def host_name() -> str:
    """This host's name as worker ids carry it."""
    return socket.gethostname()[:24]


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int


def remember(worker_id: str) -> None:
    """Record an id this process gave one of its workers."""
    with _ours_lock:
        _ours.add(worker_id)


def holder_of(worker_id: str | None) -> Holder | None:
    """The host and pid in a ``host-pid-random`` worker id; None for other ids."""
    if not worker_id:
        return None
    parts = worker_id.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return Holder(parts[0], int(parts[1]))


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_is_dead(worker_id: str | None, *, host: str | None = None) -> bool:
    """Whether ``worker_id`` is a worker of this host whose process is gone."""
    holder = holder_of(worker_id)
    if holder is None or holder.host != (host or host_name()):
        return False
    if holder.pid == os.getpid():
        with _ours_lock:
            return worker_id not in _ours
    return not process_alive(holder.pid)


def reclaim_orphans(jobs: JobStore, *, host: str | None = None) -> list[str]:
    """End the leases of running jobs held by dead workers of this host; their ids."""
    reclaimed = []
    for job in jobs.running():
        if job.worker_id is None or not holder_is_dead(job.worker_id, host=host):
            continue
        # A lease that ended a second ago: the next claim's sweep re-queues the job.
        if jobs.heartbeat(job.id, job.worker_id, lease_seconds=-1.0):
            log.warning("job %s: its worker %s died; back to the queue now", job.id, job.worker_id)
            reclaimed.append(job.id)
    return reclaimed
