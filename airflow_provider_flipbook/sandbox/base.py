"""What every vendor emulator shares: its FastAPI app, counts for ``/_sandbox/state``, reset,
and its own shapes for injected errors and malformed bodies."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from airflow_provider_flipbook.sandbox.core import Sandbox


class VendorEmulator:
    name = ""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.app = FastAPI(title=f"{self.name} sandbox", openapi_url=None, docs_url=None, redoc_url=None)
        self.reset()
        self.routes()

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


def iso(ts: float) -> str:
    """A wall-clock timestamp as the vendors write it: ISO 8601, UTC, seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def gateway_page(status: int) -> bytes:
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")
    return (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>".encode()
    )


async def fetch_url(url: str, path: Path) -> str | None:
    """Fetch a PDF by URL as the vendors do (redirects followed, any 200 body taken as the file);
    return an error text, or None. Loopback URLs work, so tests can serve files."""
    try:
        async with httpx.AsyncClient(follow_redirects=True, timeout=60) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    return f"the URL answered HTTP {response.status_code}"
                with path.open("wb") as out:
                    async for chunk in response.aiter_bytes(1 << 20):
                        out.write(chunk)
    except httpx.HTTPError as error:
        return f"the URL could not be fetched ({type(error).__name__})"
    return None
