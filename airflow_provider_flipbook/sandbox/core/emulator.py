"""The base of every vendor emulator: its FastAPI app, counts for ``/_sandbox/state``, reset, option
switches, and its own shapes for injected errors and malformed bodies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from airflow_provider_flipbook.sandbox.core.state import SandboxState


class VendorEmulator:
    """One vendor's emulated API, mounted at ``/<name>`` by the server."""

    name = ""
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
