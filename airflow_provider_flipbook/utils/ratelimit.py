"""Client-side pacing: the vendors' limits as data, and a pacer on pyrate-limiter buckets.

Two shapes describe the four vendors' limits:

* ``SlidingWindow(calls, period)``: at most ``calls`` requests in any ``period`` seconds
  (Flipsnack 5/s and 60/min, iPaper below 50/min, Papyrs 6 per 60 s);
* ``TokenBucket(burst, rate)``: ``burst`` back-to-back requests, then ``rate`` per second
  (FlippingBook: a burst of 10, then 1/s).

The pacer books calls in a pyrate-limiter bucket whose storage gives the scope: in memory
(``process``), an SQLite file under a file lock (``host``: every process on the machine), or Redis
(``redis``: every host). All three use pyrate-limiter's sliding-window log, so a token bucket is paced
as its sliding-window equivalent, ``burst`` calls per ``burst / rate`` seconds: the same long-run
rate and burst, and it also satisfies FlippingBook's older wording ("after a burst the next request
becomes available after 10 s of inactivity").

``acquire`` blocks (sleeps) until a call may go out and never rejects; ``try_acquire`` books a call
or says how long to wait, so async code can do its own waiting (``acquire_async``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import weakref
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyrate_limiter import AbstractBucket, InMemoryBucket, Rate, RateItem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from concurrent.futures import Executor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlidingWindow:
    """At most ``calls`` in any ``period`` seconds."""

    calls: int
    period: float

    def scaled(self, speed: float) -> SlidingWindow:
        return SlidingWindow(self.calls, self.period / speed)

    @property
    def interval(self) -> float:
        """Seconds per call on average: what to wait when told to slow down without a hint."""
        return self.period / self.calls

    def window(self) -> SlidingWindow:
        return self


@dataclass(frozen=True)
class TokenBucket:
    """A burst of ``burst`` calls, refilled at ``rate`` calls per second."""

    burst: int
    rate: float

    def scaled(self, speed: float) -> TokenBucket:
        return TokenBucket(self.burst, self.rate * speed)

    @property
    def interval(self) -> float:
        return 1 / self.rate

    def window(self) -> SlidingWindow:
        return SlidingWindow(self.burst, self.burst / self.rate)


Limit = SlidingWindow | TokenBucket


def rates(limits: Sequence[Limit]) -> list[Rate]:
    """pyrate-limiter rates (milliseconds, rounded up so the pacing is never faster than asked)."""
    return [Rate(w.calls, max(1, math.ceil(w.period * 1000))) for w in (limit.window() for limit in limits)]


class Pacer:
    """Something that books calls: ``try_acquire`` returns 0 (booked) or the seconds to wait."""

    limits: list[Limit]

    def try_acquire(self) -> float:
        raise NotImplementedError

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Block until a call may go out; return the seconds spent waiting."""
        waited = 0.0
        while (wait := self.try_acquire()) > 0:
            sleep(wait)
            waited += wait
        return waited

    @property
    def slot(self) -> float:
        """Seconds per call at the slowest limit's long-run rate as booked, a hair more.

        As booked: whole milliseconds per window (:func:`rates`). Calls this far apart never find their
        window full.
        """
        return max((r.interval / r.limit / 1000 * 1.005 for r in rates(self.limits)), default=0.0)

    async def acquire_async(self, executor: Executor | None = None) -> float:
        """Book one call from the event loop (``acquire`` for the event loop); return the seconds waited.

        The booking (file or network I/O) runs in ``executor``, the waiting is ``asyncio.sleep``, so
        cancelling the caller cancels the wait. Waiters queue on an asyncio lock (first come, first
        served): only the head of the queue asks the bucket, so hundreds of waiting triggers do not all
        wake up for every free slot.

        The loop's calls (account polls, per-wait calls) leave the key room for other callers (an
        upload in a worker): they go out at most one :attr:`slot` apart, never in a burst that fills
        the window so that the next free slot is a whole window away; and after its first refused try
        a call asks again :data:`YIELD_SHARE` of a slot after its slot frees, so a caller elsewhere
        that waits for the same slot takes it first (once: then the loop's call takes the next one,
        or a caller using the whole rate would starve the polls).
        """
        loop = asyncio.get_running_loop()
        turns = self.__dict__.setdefault("_loop_turns", weakref.WeakKeyDictionary())
        turn = turns.get(loop)
        if turn is None:
            turn = turns[loop] = _LoopTurn(asyncio.Lock())
        waited = 0.0
        async with turn.lock:
            if (early := turn.next_at - time.monotonic()) > 0:
                await asyncio.sleep(early)
                waited += early
            yielded = False
            while (wait := await loop.run_in_executor(executor, self.try_acquire)) > 0:
                if not yielded:
                    wait, yielded = wait + YIELD_SHARE * self.slot, True
                await asyncio.sleep(wait)
                waited += wait
            turn.next_at = time.monotonic() + self.slot
        return waited


# The share of a slot the event loop waits beyond a freed slot before taking it (see acquire_async).
YIELD_SHARE = 0.25


@dataclass
class _LoopTurn:
    """One event loop's queue for a pacer, and when its next call may go out."""

    lock: asyncio.Lock
    next_at: float = 0.0


class BucketPacer(Pacer):
    """A set of limits that must all hold, booked in one pyrate-limiter bucket (in memory by default).

    ``clock`` gives seconds; wall-clock time by default, because the host and Redis scopes compare
    timestamps written by other processes (and, for Redis, other hosts: keep their clocks in NTP sync).
    """

    def __init__(
        self,
        limits: Sequence[Limit],
        bucket: AbstractBucket | None = None,
        clock: Callable[[], float] = time.time,
        name: str = "call",
        serialize: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        self.limits = list(limits)
        self.bucket = bucket if bucket is not None else InMemoryBucket(rates(self.limits))
        self._clock = clock
        self._name = name
        # A bucket shared by processes counts the items stamped up to *its caller's* now: a process
        # that read the clock earlier but books later would not see a later stamp and overbook. So
        # reading the clock and booking happen under one lock across the processes (``serialize``).
        self._serialize = serialize or nullcontext
        self._longest = max((limit.window().period for limit in self.limits), default=0.0)
        self._lock = threading.Lock()  # put() and waiting() read the same recorded verdict

    def try_acquire(self) -> float:
        if not self.limits:
            return 0.0
        with self._lock, self._serialize():
            for _ in range(2):
                now = int(self._clock() * 1000)
                item = RateItem(self._name, now)
                if self.bucket.put(item):
                    self.bucket.leak(now)  # drop what has left every window: the storage stays small
                    return 0.0
                wait = max(int(self.bucket.waiting(item)), 1) / 1000  # type: ignore[arg-type]
                if wait <= self._longest * 1.5:
                    break
                self.bucket.flush()  # stamps from the future: the clock went back (a reboot), start over
            return wait


class RedisPacer(Pacer):
    """The Redis scope: a pacer on a Redis bucket, falling back to the host scope.

    When Redis cannot be reached, it paces with the host scope instead (one warning per process) and
    tries Redis again after ``retry_after`` s.
    """

    warned = False

    def __init__(
        self,
        limits: Sequence[Limit],
        connect: Callable[[], Pacer],
        fallback: Callable[[], Pacer],
        retry_after: float = 60.0,
    ) -> None:
        self.limits = list(limits)
        self._connect, self._fallback_factory = connect, fallback
        self._redis: Pacer | None = None
        self._fallback: Pacer | None = None
        self._down_until = 0.0
        self._retry_after = retry_after
        self._lock = threading.Lock()

    @property
    def using_redis(self) -> bool:
        return self._redis is not None

    def try_acquire(self) -> float:
        if time.monotonic() >= self._down_until:
            try:
                with self._lock:
                    if self._redis is None:
                        self._redis = self._connect()
                    redis = self._redis
                return redis.try_acquire()
            except Exception as error:  # redis' errors, but also a missing connection or package
                self._redis = None
                self._down_until = time.monotonic() + self._retry_after
                if not RedisPacer.warned:
                    RedisPacer.warned = True
                    log.warning(
                        "Redis pacing unavailable (%s: %s); pacing per host instead, so other hosts "
                        "using the same credential are not counted",
                        type(error).__name__,
                        str(error)[:200],
                    )
        with self._lock:
            if self._fallback is None:
                self._fallback = self._fallback_factory()
        return self._fallback.try_acquire()


class WaitElsewhere(Exception):
    """Raised by a hook on the event loop instead of sleeping.

    Raised in a worker thread of :meth:`FlipbookBaseHook.acall`: the loop does the waiting, then runs
    the call again.
    """

    def __init__(self, seconds: float, pacing: bool = False) -> None:
        super().__init__(f"wait {seconds:.3f} s")
        self.seconds, self.pacing = seconds, pacing


class HookPacer:
    """A shared pacer seen through one hook.

    ``acquire()`` waits with the hook's sleep policy, ``acquire_async()`` on the event loop.
    """

    def __init__(self, shared: Pacer, sleep: Callable[[float], None]) -> None:
        self.shared, self._sleep = shared, sleep
        self._ahead = threading.local()  # per thread: hooks on the event loop share one instance

    @contextmanager
    def booked_ahead(self) -> Iterator[None]:
        """Let the calling thread's next ``acquire()`` take a slot already booked elsewhere.

        Booked on the event loop, by :meth:`FlipbookBaseHook.acall`, instead of booking another.
        """
        self._ahead.slots = 1
        try:
            yield
        finally:
            self._ahead.slots = 0

    def try_acquire(self) -> float:
        if getattr(self._ahead, "slots", 0) > 0:
            self._ahead.slots -= 1
            return 0.0
        return self.shared.try_acquire()

    def acquire(self) -> float:
        """Block (with the hook's sleep) until a call may go out; return the seconds spent waiting."""
        waited = 0.0
        while (wait := self.try_acquire()) > 0:
            try:
                self._sleep(wait)
            except WaitElsewhere as elsewhere:
                elsewhere.pacing = True
                raise
            waited += wait
        return waited

    async def acquire_async(self, executor: Executor | None = None) -> float:
        """Book one call from the event loop; return the seconds spent waiting.

        The waiting is ``asyncio.sleep`` (cancellable), the booking runs in ``executor``.

        :param executor: where the booking's file or network I/O runs (None: the loop's default).
        """
        return await self.shared.acquire_async(executor)


def parse_limit(text: str) -> SlidingWindow:
    """Parse ``"6/60"`` (6 calls per 60 s) into a sliding window; used for connection overrides."""
    calls, _, period = text.partition("/")
    try:
        window = SlidingWindow(int(calls), float(period or 1))
    except ValueError:
        raise ValueError(f"rate_limit must look like '6/60' (calls/seconds), got {text!r}") from None
    if window.calls < 1 or window.period <= 0:
        raise ValueError(f"rate_limit must allow at least one call in a positive period, got {text!r}")
    return window
