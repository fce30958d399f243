"""The base of every vendor emulator: what the server needs to know of it (its name, the credentials
it accepts, the Airflow connection that points at it, the apps it serves), its FastAPI app, counts
for ``/_sandbox/state``, reset, option switches, and its own shapes for injected errors and
malformed bodies. The server mounts every emulator listed in :mod:`..emulators`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import FastAPI

from airflow_provider_flipbook.sandbox.core.state import SandboxState

if TYPE_CHECKING:
    from collections.abc import Callable


def token(prefix: str) -> str:
    """A fresh random credential, recognisable by its prefix."""
    return f"{prefix}-{secrets.token_hex(12)}"


@dataclass(frozen=True)
class Credential:
    """One credential an emulator accepts, drawn afresh by ``make`` for each run (``flipbook-sandbox
    --<vendor>-<name>`` sets it). ``secret`` ones never show in the request log, and tests scan logs
    for them; a public one (an API key id, a user name) may.
    """

    name: str
    make: Callable[[], str]
    secret: bool = True


class VendorEmulator:
    """One vendor's emulated API, mounted at ``/<name>`` by the server."""

    name: ClassVar[str] = ""
    credentials: ClassVar[tuple[Credential, ...]] = ()
    options: dict[str, Any]

    def __init__(self, shared: SandboxState) -> None:
        self.shared = shared
        self.app = FastAPI(title=f"{self.name} sandbox", openapi_url=None, docs_url=None, redoc_url=None)
        self.reset()
        self.routes()

    @property
    def public(self) -> str:
        """The emulator's public base URL."""
        return f"{self.shared.base_url}/{self.name}"

    def credential(self, name: str) -> str:
        """This run's value of one of :attr:`credentials`."""
        return self.shared.credentials[f"{self.name}_{name}"]

    def connection(self) -> dict[str, Any]:
        """The Airflow connection (``AIRFLOW_CONN_*`` JSON) that points a hook at this emulator."""
        raise NotImplementedError

    def apps(self) -> dict[str, Any]:
        """Path prefix -> the app served there: the emulator's own, and any second host it plays."""
        return {self.name: self.app}

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """The calls this vendor made to registered webhooks (``GET /_sandbox/webhooks``)."""
        return []

    def routes(self) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        raise NotImplementedError

    def error_body(self, status: int) -> tuple[bytes, str]:
        """Body of an injected HTTP error in the vendor's own envelope."""
        raise NotImplementedError

    def malformed_body(self, kind: str) -> tuple[bytes, str]:
        if kind == "html":
            return b"<html><body><h1>Service Unavailable</h1></body></html>", "text/html"
        if kind == "empty":
            return b"", "application/json"
        good, content_type = self.error_body(200)
        return good[: max(len(good) // 2, 1)], content_type
