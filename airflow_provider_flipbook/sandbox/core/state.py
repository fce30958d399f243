"""The sandbox state shared by the four emulators.

Clock and speed, credentials, ids, the request log, fault queue, rate counters, on-disk file storage
and the vendors' option switches.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from airflow_provider_flipbook.sandbox.core.faults import FAULT_KINDS, LOST_AS, Fault
from airflow_provider_flipbook.sandbox.core.limits import RateReferee

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_flipbook.sandbox.core.emulator import VendorEmulator

# Query parameters whose values the request log never shows.
REDACTED_PARAMS = {"apikey", "signature", "auth_token", "accesstoken", "password", "plpassword", "token"}


class Credentials:
    """The credentials the emulators accept, fresh for each run.

    ``<vendor>_<name>`` -> value, read as ``credentials.papyrs_token`` or ``credentials["papyrs_token"]``.
    Each emulator declares its own (:attr:`~.emulator.VendorEmulator.credentials`).
    """

    _values: dict[str, str]
    _public: frozenset[str]
    _in_urls: frozenset[str]

    def __init__(
        self, values: dict[str, str], public: Iterable[str] = (), in_urls: Iterable[str] = ()
    ) -> None:
        self.__dict__.update(_values=dict(values), _public=frozenset(public), _in_urls=frozenset(in_urls))

    @classmethod
    def generate(cls, emulators: Iterable[type[VendorEmulator]]) -> Credentials:
        """Draw a fresh set for these emulators.

        :param emulators: the emulator classes, each with its ``credentials``
        """
        declared = [(f"{e.name}_{c.name}", c) for e in emulators for c in e.credentials]
        return cls(
            {key: c.make() for key, c in declared},
            public=[key for key, c in declared if not c.secret],
            in_urls=[key for key, c in declared if c.in_urls],
        )

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __getattr__(self, key: str) -> str:
        try:
            return self.__dict__["_values"][key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: str) -> None:
        if key not in self._values:
            raise AttributeError(f"no credential {key!r}; known: {sorted(self._values)}")
        self._values[key] = value

    def names(self) -> list[str]:
        """Every credential's ``<vendor>_<name>``."""
        return list(self._values)

    def values(self) -> list[str]:
        """Return the secret ones (not the public key ids and user names)."""
        return [v for k, v in self._values.items() if k not in self._public]

    def all_secrets(self) -> list[str]:
        """Every secret, the key ids a vendor's design sends in URLs included (an echo must not show them)."""
        return [*self.values(), *(v for k, v in self._values.items() if k in self._in_urls)]


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
    """Format a wall-clock timestamp as the vendors write it: ISO 8601, UTC, seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class SandboxState:
    """The state of one running sandbox, shared by its four emulators and its control API."""

    def __init__(
        self,
        *,
        speed: float = 1.0,
        credentials: Credentials,
        base_url: str = "http://127.0.0.1:8765",
        rate_limit_mode: str = "delay",
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.credentials = credentials
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
        self.prefixes: dict[str, str] = {}  # URL path prefix -> the vendor served there
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
        if spec.get("vendor") not in self.vendors:
            raise ValueError(f"vendor must be one of {tuple(self.vendors)}")
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
