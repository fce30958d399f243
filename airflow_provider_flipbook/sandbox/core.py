"""State shared by the four vendor emulators: clock and speed, credentials, rate limiters,
fault injection, the request log and on-disk file storage.

Everything is in memory for one run (files go to a temporary folder that is removed at exit).
``speed`` divides every time constant: conversion durations, rate-limit windows, URL expiry.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

VENDORS = ("flippingbook", "flipsnack", "ipaper", "papyrs")
# Query parameters whose values the request log never shows.
REDACTED_PARAMS = {"apikey", "signature", "auth_token", "accesstoken", "password", "plpassword", "token"}
FAULT_KINDS = {"status", "slow", "drop", "malformed", "lost_answer"}
LOST_AS = ("502", "504", "cut", "timeout")


# -- rate limits: the referee's own counters (the hooks pace with their own code; this only judges) --


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


@dataclass
class Credentials:
    flippingbook_key: str
    flipsnack_key: str
    flipsnack_secret: str
    ipaper_user: str
    ipaper_password: str
    ipaper_api_key: str
    papyrs_token: str

    @classmethod
    def generate(cls) -> Credentials:
        def token(prefix: str) -> str:
            return f"{prefix}-{secrets.token_hex(12)}"

        return cls(
            flippingbook_key=token("fbk"),
            flipsnack_key=token("fsk").upper(),
            flipsnack_secret=token("fss").upper(),
            ipaper_user="publisher@example.com",
            ipaper_password=token("ipp"),
            ipaper_api_key=token("ipk"),
            papyrs_token=token("pyt"),
        )

    def values(self) -> list[str]:
        return [v for k, v in asdict(self).items() if k not in ("ipaper_user", "flipsnack_key")]


@dataclass
class Fault:
    vendor: str
    kind: str  # status | slow | drop | malformed | lost_answer
    route: str = ""  # regular expression searched in "METHOD /path?query" (vendor prefix stripped)
    status: int = 500
    retry_after: float | None = None  # seconds; None = no header
    delay: float = 5.0  # for "slow"
    body: str = "truncated"  # for "malformed": truncated | html | empty | nocode
    lost_as: str = "502"  # for "lost_answer", after the vendor did the work: 502 | 504 | cut | timeout
    count: int = 1
    id: int = 0

    def matches(self, vendor: str, target: str) -> bool:
        return self.vendor == vendor and self.count > 0 and re.search(self.route, target) is not None


@dataclass
class LogEntry:
    vendor: str
    method: str
    path: str
    query: str
    status: int
    credential_in_url: bool
    at: float = field(default_factory=time.time)


class Sandbox:
    def __init__(
        self,
        *,
        speed: float = 1.0,
        credentials: Credentials | None = None,
        base_url: str = "http://127.0.0.1:8765",
        rate_limit_mode: str = "delay",
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.credentials = credentials or Credentials.generate()
        self.base_url = base_url
        self.rate_limit_mode = rate_limit_mode
        self.storage = Path(tempfile.mkdtemp(prefix="flipbook-sandbox-"))
        self.faults: list[Fault] = []
        self.log: deque[LogEntry] = deque(maxlen=20_000)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._limiters: dict[tuple[str, str], list[Limit]] = {}
        self.started = time.monotonic()
        self.vendors: dict[str, Any] = {}
        self.signatures: set[str] = set()  # Flipsnack signatures received, so tests can scan logs for them

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic()

    def scaled(self, seconds: float) -> float:
        return seconds / self.speed

    def elapsed_real(self, since: float) -> float:
        """Seconds since ``since`` on the vendor's clock (sped up by ``speed``)."""
        return (self.now() - since) * self.speed

    # -- rate limits -------------------------------------------------------------------------------

    def rate_check(self, vendor: str, credential: str, limits: tuple[Limit, ...]) -> int | None:
        """Book a call; return None if allowed, else the index of the violated limit."""
        with self._lock:
            counters = self._limiters.setdefault(
                (vendor, credential), [limit.scaled(self.speed) for limit in limits]
            )
            now = self.now()
            for index, limit in enumerate(counters):
                if limit.delay(now) > 0:
                    return index
            for limit in counters:
                limit.record(now)
        return None

    def retry_after(self, vendor: str, credential: str, index: int) -> float:
        with self._lock:
            return max(self._limiters[(vendor, credential)][index].delay(self.now()), 0.001)

    # -- faults ------------------------------------------------------------------------------------

    def add_fault(self, **spec: Any) -> Fault:
        if spec.get("vendor") not in VENDORS:
            raise ValueError(f"vendor must be one of {VENDORS}")
        if spec.get("kind") not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}")
        if spec.get("kind") == "lost_answer" and str(spec.get("lost_as", "502")) not in LOST_AS:
            raise ValueError(f"lost_as must be one of {LOST_AS}")
        re.compile(spec.get("route", ""))
        fault = Fault(**spec, id=next(self._ids)) if "id" not in spec else Fault(**spec)
        with self._lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, vendor: str, target: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(vendor, target):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # -- request log ------------------------------------------------------------------------------

    def record(self, vendor: str, method: str, path: str, raw_query: str, status: int) -> None:
        raw = path + "?" + raw_query
        leaked = any(secret in raw for secret in self.credentials.values())
        pairs = [
            (k, "***" if k.lower() in REDACTED_PARAMS else v)
            for k, v in parse_qsl(raw_query, keep_blank_values=True)
        ]
        query = urlencode(pairs)
        for secret in self.credentials.values():
            query = query.replace(secret, "***")
        self.log.append(LogEntry(vendor, method, path, query, status, leaked))

    # -- ids, files, lifecycle ------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def new_file(self, suffix: str = "") -> Path:
        return self.storage / f"{secrets.token_hex(8)}{suffix}"

    def state(self) -> dict[str, Any]:
        return {name: vendor.counts() for name, vendor in self.vendors.items()}

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self._limiters.clear()
            self.signatures.clear()
        for vendor in self.vendors.values():
            vendor.reset()

    def close(self) -> None:
        shutil.rmtree(self.storage, ignore_errors=True)


async def wait_or_disconnect(receive, seconds: float) -> bool:
    """Sleep ``seconds`` unless the client goes away first; True if it disconnected."""
    try:
        message = await asyncio.wait_for(receive(), timeout=seconds)
    except asyncio.TimeoutError:
        return False
    return message.get("type") == "http.disconnect"
