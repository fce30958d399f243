"""Rate-limit primitives shared by the hooks (client-side pacing) and the sandbox (enforcement).

Two shapes cover the four vendors:

* ``SlidingWindow(calls, period)``: at most ``calls`` requests in any ``period`` seconds
  (Flipsnack 5/s and 60/min, iPaper below 50/min, Papyrs 6 per 60 s);
* ``TokenBucket(burst, rate)``: ``burst`` back-to-back requests, then ``rate`` per second
  (FlippingBook: a burst of 10, then 1/s).

``delay()`` says how long to wait before the next call may go out; ``record()`` books a call.
Both are pure and thread-safe through the owning ``Pacer``'s lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class SlidingWindow:
    calls: int
    period: float
    _stamps: deque[float] = field(default_factory=deque, repr=False)

    def delay(self, now: float) -> float:
        if self._stamps and self._stamps[-1] > now:  # a clock from before a reboot: start over
            self._stamps.clear()
        while self._stamps and now - self._stamps[0] >= self.period:
            self._stamps.popleft()
        if len(self._stamps) < self.calls:
            return 0.0
        return self._stamps[0] + self.period - now

    def record(self, now: float) -> None:
        self._stamps.append(now)

    def scaled(self, speed: float) -> SlidingWindow:
        return SlidingWindow(self.calls, self.period / speed)

    def dump(self) -> list[float]:
        return list(self._stamps)

    def load(self, state: list[float]) -> None:
        self._stamps = deque(state[-self.calls:])


@dataclass
class TokenBucket:
    burst: int
    rate: float
    _tokens: float | None = field(default=None, repr=False)
    _updated: float = field(default=0.0, repr=False)

    def _refill(self, now: float) -> float:
        if self._tokens is None or self._updated > now:  # first use, or a clock from before a reboot
            self._tokens, self._updated = float(self.burst), now
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        return self._tokens

    def delay(self, now: float) -> float:
        tokens = self._refill(now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def record(self, now: float) -> None:
        self._refill(now)
        self._tokens = (self._tokens or 0.0) - 1.0

    def scaled(self, speed: float) -> TokenBucket:
        return TokenBucket(self.burst, self.rate * speed)

    def dump(self) -> list[float]:
        return [] if self._tokens is None else [self._tokens, self._updated]

    def load(self, state: list[float]) -> None:
        self._tokens, self._updated = (state[0], state[1]) if state else (None, 0.0)


Limit = SlidingWindow | TokenBucket


class Pacer:
    """A set of limits that must all hold; ``acquire`` blocks until a call may go out."""

    def __init__(self, limits: Sequence[Limit], clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = list(limits)
        self._clock = clock
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        """Book a call and return 0, or book nothing and return the seconds to wait."""
        with self._lock:
            now = self._clock()
            wait = max((limit.delay(now) for limit in self.limits), default=0.0)
            if wait <= 0:
                for limit in self.limits:
                    limit.record(now)
            return max(wait, 0.0)

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Block until a call may go out; return the seconds spent waiting."""
        waited = 0.0
        while (wait := self.try_acquire()) > 0:
            sleep(wait)
            waited += wait
        return waited


class SharedPacer(Pacer):
    """A pacer whose state lives in a file, locked with ``flock``: every process on this host that
    uses the same credential shares it (LocalExecutor workers, the triggerer, ``airflow dags test``).
    ``time.monotonic`` is system-wide on Linux, so the timestamps agree across processes."""

    def __init__(self, limits: Sequence[Limit], path: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(limits, clock)
        self.path = path

    def try_acquire(self) -> float:
        import fcntl
        import json

        with self._lock, open(self.path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                try:
                    states = json.loads(handle.read() or "[]")
                except ValueError:
                    states = []
                for limit, state in zip(self.limits, states + [[]] * len(self.limits), strict=False):
                    limit.load(state)
                now = self._clock()
                wait = max((limit.delay(now) for limit in self.limits), default=0.0)
                if wait <= 0:
                    for limit in self.limits:
                        limit.record(now)
                    handle.seek(0)
                    handle.truncate()
                    handle.write(json.dumps([limit.dump() for limit in self.limits]))
                    handle.flush()
                return max(wait, 0.0)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


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
