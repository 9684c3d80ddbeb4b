"""Whether new jobs are taken: the operator's pause, the budget guard, queue per style.

Intake closes; the queue does not. Workers never look here, so the jobs already queued keep
draining while a pause or a spent budget refuses new ones.

The budget counts jobs accepted (not finished) per UTC clock hour and per UTC day, in the
``intake_counts`` table of the job database, so every node shares it and deleting jobs does
not give budget back. A refusal says how long until the window frees (``Retry-After``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pixserve.core.errors import BudgetExhausted, IntakePaused, StyleQueueFull
from pixserve.core.settings import Settings
from pixserve.domain.job import JobStatus
from pixserve.queue.clock import Clock, read_clock, utc_now
from pixserve.queue.intake import IntakeStore, IntakeSwitch, Window
from pixserve.queue.store import JobStore

#: What a paused intake tells clients to wait before trying again.
PAUSED_RETRY_SECONDS = 300
#: What a full style queue tells clients to wait.
QUEUE_FULL_RETRY_SECONDS = 30
#: How long a node trusts the switch it read (another node's pause reaches it this late).
SWITCH_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class IntakeState:
    """Open, or closed with a reason (``paused`` or ``budget_exhausted``) and a wait."""

    open: bool
    reason: Literal["paused", "budget_exhausted"] | None = None
    retry_after_seconds: int | None = None


class IntakeService:
    """Admits new jobs or refuses them with ``paused``, ``budget_exhausted`` or ``queue_full``."""

    def __init__(
        self,
        store: IntakeStore,
        jobs: JobStore,
        settings: Settings,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, IntakeSwitch] | None = None

    # -- the switch --------------------------------------------------------------------

    def switch(self, *, fresh: bool = False) -> IntakeSwitch:
        """The operator's switch, read at most once a second per node unless ``fresh``."""
        with self._lock:
            cached = self._cached
        if not fresh and cached is not None and time.monotonic() - cached[0] < SWITCH_CACHE_SECONDS:
            return cached[1]
        switch = self.store.switch()
        with self._lock:
            self._cached = (time.monotonic(), switch)
        return switch

    def pause(self, note: str | None = None) -> IntakeSwitch:
        """Stop taking new jobs on every node; queued ones still run."""
        return self._set(True, note)

    def resume(self) -> IntakeSwitch:
        """Take new jobs again."""
        return self._set(False, None)

    def _set(self, paused: bool, note: str | None) -> IntakeSwitch:
        switch = self.store.set_paused(paused, note)
        with self._lock:
            self._cached = (time.monotonic(), switch)
        return switch

    # -- admitting ---------------------------------------------------------------------

    def state(self) -> IntakeState:
        """Whether a submission would be taken now (what the page shows)."""
        if self.switch().paused:
            return IntakeState(False, "paused", None)
        now = read_clock(self._clock)
        hour = _hour(now)
        windows = self._windows(now)
        if windows:
            accepted = self.store.accepted(min(w.first_hour for w, _ in windows))
            for window, wait in windows:
                used = sum(n for h, n in accepted.items() if window.first_hour <= h <= hour)
                if used >= window.cap:
                    return IntakeState(False, "budget_exhausted", wait)
        return IntakeState(True)

    def check(self) -> None:
        """Raise ``paused`` or ``budget_exhausted`` if intake is closed (before any upload work)."""
        state = self.state()
        if state.reason == "paused":
            raise IntakePaused(retry_after=PAUSED_RETRY_SECONDS)
        if state.reason == "budget_exhausted":
            raise BudgetExhausted(retry_after=state.retry_after_seconds or 60)

    def admit(self, style: str) -> None:
        """Take one job of ``style`` into the budget, or raise why not."""
        if self.switch().paused:
            raise IntakePaused(retry_after=PAUSED_RETRY_SECONDS)
        cap = self.settings.max_queue_per_style
        if cap and self.jobs.counts().get((style, JobStatus.QUEUED), 0) >= cap:
            raise StyleQueueFull(retry_after=QUEUE_FULL_RETRY_SECONDS)
        now = read_clock(self._clock)
        windows = self._windows(now)
        full = self.store.admit(_hour(now), [w for w, _ in windows])
        if full is not None:
            raise BudgetExhausted(retry_after=windows[full][1])

    def _windows(self, now: datetime) -> list[tuple[Window, int]]:
        """The configured budget windows, each with the seconds until it frees."""
        hour = _hour(now)
        seconds = int(now.timestamp())
        windows = []
        if self.settings.budget_per_hour:
            windows.append((Window(hour, self.settings.budget_per_hour), 3600 - seconds % 3600))
        if self.settings.budget_per_day:
            day = hour - hour % 24
            windows.append((Window(day, self.settings.budget_per_day), 86400 - seconds % 86400))
        return windows

    # -- what the operator sees --------------------------------------------------------

    def stats(self) -> dict[str, object]:
        """Queue depth per style, jobs accepted and failures per hour (24 h), intake, budget."""
        now = read_clock(self._clock)
        hour = _hour(now)
        first = hour - 23
        depth: dict[str, dict[str, int]] = {}
        for (style, status), n in self.jobs.counts().items():
            if status in (JobStatus.QUEUED, JobStatus.RUNNING):
                depth.setdefault(style, {"queued": 0, "running": 0})[status.value] = n
        accepted = self.store.accepted(min(first, hour - hour % 24))
        failures: Counter[tuple[int, str]] = Counter(
            (_hour(at), code) for at, code in self.store.failures(_start(first))
        )
        hours = []
        for h in range(first, hour + 1):
            failed = {code: n for (fh, code), n in failures.items() if fh == h}
            hours.append(
                {
                    "hour": _start(h).isoformat(),
                    "accepted": accepted.get(h, 0),
                    "failed": sum(failed.values()),
                    "failures": failed,
                }
            )
        state = self.state()
        switch = self.switch(fresh=True)
        day_start = hour - hour % 24
        return {
            "queue": depth,
            "hours": hours,
            "intake": {
                "open": state.open,
                "reason": state.reason,
                "retry_after_seconds": state.retry_after_seconds,
                "paused": switch.paused,
                "note": switch.note,
            },
            "budget": {
                "per_hour": self.settings.budget_per_hour or None,
                "per_day": self.settings.budget_per_day or None,
                "used_this_hour": accepted.get(hour, 0),
                "used_today": sum(n for h, n in accepted.items() if h >= day_start),
            },
        }


def _hour(at: datetime) -> int:
    """Hours since the epoch (UTC)."""
    return int(at.timestamp()) // 3600


def _start(hour: int) -> datetime:
    """The start of ``hour`` (hours since the epoch), aware UTC."""
    return datetime.fromtimestamp(hour * 3600, UTC)
