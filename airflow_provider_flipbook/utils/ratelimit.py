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
        while self._stamps and now - self._stamps[0] >= self.period:
            self._stamps.popleft()
        if len(self._stamps) < self.calls:
            return 0.0
        return self._stamps[0] + self.period - now

    def record(self, now: float) -> None:
        self._stamps.append(now)

    def scaled(self, speed: float) -> SlidingWindow:
        return SlidingWindow(self.calls, self.period / speed)


@dataclass
class TokenBucket:
    burst: int
    rate: float
    _tokens: float | None = field(default=None, repr=False)
    _updated: float = field(default=0.0, repr=False)

    def _refill(self, now: float) -> float:
        if self._tokens is None:
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
