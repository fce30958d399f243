"""Fault injection: the queued :class:`Fault` kinds and the ASGI middleware that applies them.

The middleware applies them (and writes the request log) before an emulator sees a request.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from airflow_provider_flipbook.sandbox.core.state import SandboxState

FAULT_KINDS = {"status", "slow", "drop", "malformed", "lost_answer", "echo"}
LOST_AS = ("502", "504", "cut", "timeout")


@dataclass
class Fault:
    """One queued fault, applied to the next ``count`` requests whose target matches ``route``."""

    vendor: str
    kind: str  # status | slow | drop | malformed | lost_answer | echo
    route: str = ""  # regular expression searched in "METHOD /path?query" (vendor prefix stripped)
    status: int = 500
    retry_after: float | None = None  # seconds; None = no header
    delay: float = 5.0  # for "slow"
    body: str = "truncated"  # for "malformed": truncated | html | empty | nocode
    lost_as: str = "502"  # for "lost_answer", after the vendor did the work: 502 | 504 | cut | timeout
    code: str = ""  # for "status": the vendor's own error code in its envelope (e.g. an account's refusal)
    count: int = 1
    id: int = 0

    def matches(self, vendor: str, target: str) -> bool:
        return self.vendor == vendor and self.count > 0 and re.search(self.route, target) is not None


def gateway_page(status: int) -> bytes:
    """Return the HTML page a gateway in front of the vendor answers with (502, 503, 504)."""
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")
    return (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>".encode()
    )


async def wait_or_disconnect(receive: Any, seconds: float) -> bool:
    """Sleep ``seconds`` unless the client goes away first; True if it disconnected."""
    try:
        message = await asyncio.wait_for(receive(), timeout=seconds)
    except asyncio.TimeoutError:
        return False
    return message.get("type") == "http.disconnect"


class FaultMiddleware:
    """Applies queued faults before the emulators see a request, and writes the request log."""

    def __init__(self, app: Any, state: SandboxState) -> None:
        self.app, self.shared = app, state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        prefix = scope["path"].split("/")[1]
        vendor = self.shared.prefixes.get(prefix)
        if vendor is None:
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{scope['method']} {scope['path'][len(prefix) + 1 :]}?{query}"
        logged: list[int] = []

        def log(status: int) -> None:
            if not logged:
                logged.append(status)
                self.shared.record(vendor, scope["method"], scope["path"], query, status)

        async def logged_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                log(message["status"])  # before the client can read the answer
            await send(message)

        fault = self.shared.take_fault(vendor, target)
        try:
            if fault is None:
                await self.app(scope, receive, logged_send)
            else:
                await self.inject(fault, vendor, scope, receive, logged_send)
        finally:
            log(499)  # no answer was sent: the client gave up (or the connection was cut)

    async def inject(self, fault: Fault, vendor: str, scope: dict, receive: Any, send: Any) -> None:
        emulator = self.shared.vendors[vendor]
        if fault.kind == "lost_answer":
            return await self.lose_answer(fault, scope, receive, send)
        if fault.kind == "slow":
            body = await read_body(receive)
            if await wait_or_disconnect(receive, fault.delay):
                return None  # the client gave up: like a gateway timeout, nothing reached the backend
            replay = [{"type": "http.request", "body": body, "more_body": False}]

            async def replayed() -> dict:
                return replay.pop() if replay else await receive()

            return await self.app(scope, replayed, send)
        body = await read_body(receive)
        if fault.kind == "echo":
            return await self.echo(fault, scope, body, send)
        if fault.kind == "drop":
            return await cut_mid_answer(send)
        headers = []
        code = 200 if fault.kind == "malformed" else fault.status
        if fault.kind == "malformed":
            body, content_type = emulator.malformed_body(fault.body)
        elif fault.status in (502, 503, 504):
            body, content_type = gateway_page(fault.status), "text/html"
        elif fault.code:
            body, content_type = emulator.error_body(fault.status, fault.code)
        else:
            body, content_type = emulator.error_body(fault.status)
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(max(0, round(fault.retry_after))).encode()))
        headers += [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None

    async def echo(self, fault: Fault, scope: dict, body: bytes, send: Any) -> None:
        """Answer ``fault.status`` with a plain-text error that repeats the request's credentials.

        It repeats the credentials the request carried (header, query or form), as a careless vendor or
        gateway might.
        """
        sent = " ".join(
            [
                *(value.decode("latin-1") for _, value in scope.get("headers", [])),
                unquote_plus(scope.get("query_string", b"").decode("latin-1")),
                unquote_plus(body[:65536].decode("latin-1")),
            ]
        )
        echoed = [secret for secret in self.shared.credentials.all_secrets() if secret in sent]
        text = f"Request refused: credentials {', '.join(echoed) or 'none'} are not valid here".encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode())]
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": text})

    async def lose_answer(self, fault: Fault, scope: dict, receive: Any, send: Any) -> None:
        """Let the vendor do the work and commit it; its answer never reaches the client."""

        async def swallow(message: dict) -> None:
            return None

        await self.app(scope, receive, swallow)
        if fault.lost_as == "timeout":
            await wait_or_disconnect(receive, 3600)  # no answer until the client gives up
        elif fault.lost_as == "cut":
            await cut_mid_answer(send)
        else:
            body = gateway_page(int(fault.lost_as))
            await send(
                {
                    "type": "http.response.start",
                    "status": int(fault.lost_as),
                    "headers": [
                        (b"content-type", b"text/html"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


async def cut_mid_answer(send: Any) -> None:
    """Start a 200 answer of 4096 bytes and send a few.

    uvicorn then closes the connection, so the client sees it cut mid-answer.
    """
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)
