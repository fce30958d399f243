"""The referee's own rate counters: the hooks pace with their own code; these only judge."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class SlidingWindow:
    """At most ``calls`` requests in any ``period`` seconds."""

    calls: int
    period: float
    _stamps: deque[float] = field(default_factory=deque, repr=False)

    def delay(self, now: float) -> float:
        while self._stamps and now - self._stamps[0] >= self.period:
            self._stamps.popleft()
        return 0.0 if len(self._stamps) < self.calls else self._stamps[0] + self.period - now

    def record(self, now: float) -> None:
        self._stamps.append(now)

    def scaled(self, speed: float) -> SlidingWindow:
        return SlidingWindow(self.calls, self.period / speed)


@dataclass
class TokenBucket:
    """``burst`` back-to-back requests, then ``rate`` per second."""

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
        self._tokens = self._refill(now) - 1.0

    def scaled(self, speed: float) -> TokenBucket:
        return replace(self, rate=self.rate * speed)


Limit = SlidingWindow | TokenBucket


class RateReferee:
    """Counters per (vendor, credential), scaled by the sandbox speed: books calls, names the limit hit."""

    def __init__(self, speed: float, now: Callable[[], float]) -> None:
        self.speed = speed
        self._now = now
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, str], list[Limit]] = {}

    def check(self, vendor: str, credential: str, limits: tuple[Limit, ...]) -> int | None:
        """Book a call; return None if allowed, else the index of the violated limit."""
        with self._lock:
            counters = self._counters.setdefault(
                (vendor, credential), [limit.scaled(self.speed) for limit in limits]
            )
            now = self._now()
            for index, limit in enumerate(counters):
                if limit.delay(now) > 0:
                    return index
            for limit in counters:
                limit.record(now)
        return None

    def retry_after(self, vendor: str, credential: str, index: int) -> float:
        """Seconds until limit ``index`` admits a call again (at least a millisecond)."""
        with self._lock:
            return max(self._counters[(vendor, credential)][index].delay(self._now()), 0.001)

    def clear(self) -> None:
        with self._lock:
            self._counters.clear()
