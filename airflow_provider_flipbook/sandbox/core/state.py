"""The sandbox state shared by the four emulators: clock and speed, credentials, ids, the request
log, fault queue, rate counters, on-disk file storage and the vendors' option switches.

Everything is in memory for one run (files go to a temporary folder that is removed at exit).
``speed`` divides every time constant: conversion durations, rate-limit windows, URL expiry.
"""

from __future__ import annotations

import itertools
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from airflow_provider_flipbook.sandbox.core.faults import FAULT_KINDS, LOST_AS, Fault
from airflow_provider_flipbook.sandbox.core.limits import RateReferee

if TYPE_CHECKING:
    from airflow_provider_flipbook.sandbox.core.emulator import VendorEmulator

VENDORS = ("flippingbook", "flipsnack", "ipaper", "papyrs")
# Query parameters whose values the request log never shows.
REDACTED_PARAMS = {"apikey", "signature", "auth_token", "accesstoken", "password", "plpassword", "token"}


@dataclass
class Credentials:
    """The secrets the four emulators accept, fresh for each run."""

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

    def all_secrets(self) -> list[str]:
        """Every secret, the Flipsnack key (sent in URLs by the vendor's design) included."""
        return [*self.values(), self.flipsnack_key]


@dataclass
class LogEntry:
    """One request as the request log shows it (query redacted)."""

    vendor: str
    method: str
    path: str
    query: str
    status: int
    credential_in_url: bool
    at: float = field(default_factory=time.time)


class IdSequence:
    """Increasing integer ids from ``start`` (exclusive), the one id generator of the emulators."""

    def __init__(self, start: int = 0) -> None:
        self._counter = itertools.count(start + 1)
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            return next(self._counter)


def iso(ts: float) -> str:
    """A wall-clock timestamp as the vendors write it: ISO 8601, UTC, seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class SandboxState:
    """The state of one running sandbox, shared by its four emulators and its control API."""

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
        self._ids = IdSequence()
        self.limits = RateReferee(speed, self.now)
        self.started = time.monotonic()
        self.vendors: dict[str, VendorEmulator] = {}
        self.signatures: set[str] = set()  # Flipsnack signatures received, so tests can scan logs for them
        self.replayed: dict[str, dict[str, Any]] = {}  # options from a replayed recording, kept across resets
        self.replayed_answers: dict[str, list[Any]] = {}  # its recorded answers (core.replay.RecordedShapes)

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic()

    def scaled(self, seconds: float) -> float:
        return seconds / self.speed

    def elapsed_real(self, since: float) -> float:
        """Seconds since ``since`` on the vendor's clock (sped up by ``speed``)."""
        return (self.now() - since) * self.speed

    # -- faults ------------------------------------------------------------------------------------

    def add_fault(self, **spec: Any) -> Fault:
        if spec.get("vendor") not in VENDORS:
            raise ValueError(f"vendor must be one of {VENDORS}")
        if spec.get("kind") not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}")
        if spec.get("kind") == "lost_answer" and str(spec.get("lost_as", "502")) not in LOST_AS:
            raise ValueError(f"lost_as must be one of {LOST_AS}")
        re.compile(spec.get("route", ""))
        fault = Fault(**spec, id=self._ids.next()) if "id" not in spec else Fault(**spec)
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

    # -- ids, files, options, lifecycle ----------------------------------------------------------------

    def next_id(self) -> int:
        return self._ids.next()

    def new_file(self, suffix: str = "") -> Path:
        return self.storage / f"{secrets.token_hex(8)}{suffix}"

    def options(self) -> dict[str, dict[str, Any]]:
        """Every vendor's option switches (``POST /_sandbox/options``, ``--option``)."""
        return {name: vendor.options for name, vendor in self.vendors.items()}

    def set_options(self, vendor: str, values: dict[str, Any]) -> None:
        """Set known switches of one vendor; ValueError names the unknown ones."""
        target = self.vendors[vendor].options if vendor in self.vendors else None
        if target is None or not set(values) <= set(target):
            raise ValueError(f"unknown options for {vendor}: {sorted(values)}")
        target.update(values)

    def state(self) -> dict[str, Any]:
        return {name: vendor.counts() for name, vendor in self.vendors.items()}

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.signatures.clear()
        self.limits.clear()
        for vendor in self.vendors.values():
            vendor.reset()
        for name, options in self.replayed.items():  # a replayed account stays the variant played
            self.set_options(name, options)

    def close(self) -> None:
        shutil.rmtree(self.storage, ignore_errors=True)
