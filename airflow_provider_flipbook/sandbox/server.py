"""One server for the four emulators, the fault-injection middleware and the ``/_sandbox/`` control API.

Prefixes: ``/flippingbook``, ``/flipsnack`` (API host), ``/flipsnack-upload`` (upload host),
``/ipaper``, ``/papyrs``. Control API:

* ``GET  /_sandbox/health``            speed and uptime
* ``POST /_sandbox/faults``            queue a fault: ``{"vendor", "kind", "route", "status", "retry_after",
  "delay", "body", "count"}``; kinds ``status`` (500/502/503/429...), ``slow`` (answer after
  ``delay`` s; nothing is processed if the client gave up), ``drop`` (connection cut mid-answer),
  ``malformed`` (``body``: truncated, html, empty; iPaper also nocode, xxe, lol), ``lost_answer``
  (the vendor does the work, then the client gets ``lost_as``: a 502 or 504 page, a cut
  connection, or no answer until it gives up)
* ``GET/DELETE /_sandbox/faults``      list or clear queued faults
* ``GET  /_sandbox/state``             object counts per vendor
* ``GET  /_sandbox/requests``          the request log (method, path, redacted query, status)
* ``POST /_sandbox/options``           vendor switches, e.g. ``{"ipaper": {"job_guid": false}}``
* ``POST /_sandbox/reset``             forget every object, fault, log entry and rate-limit window
* ``GET  /_sandbox/connections``       the four Airflow connections, as JSON
* ``GET  /_sandbox/signatures``        the Flipsnack signatures received (for secret scans of logs)
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import asdict
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request

from airflow_provider_flipbook.sandbox.base import gateway_page
from airflow_provider_flipbook.sandbox.core import VENDORS, Fault, Sandbox, wait_or_disconnect
from airflow_provider_flipbook.sandbox.flippingbook import FlippingBookEmulator
from airflow_provider_flipbook.sandbox.flipsnack import FlipsnackEmulator
from airflow_provider_flipbook.sandbox.ipaper import IPaperEmulator
from airflow_provider_flipbook.sandbox.papyrs import PapyrsEmulator


class FaultMiddleware:
    """Applies queued faults before the emulators see a request, and writes the request log."""

    def __init__(self, app: Any, sandbox: Sandbox) -> None:
        self.app, self.sb = app, sandbox

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        prefix = scope["path"].split("/")[1]
        vendor = "flipsnack" if prefix == "flipsnack-upload" else prefix
        if vendor not in VENDORS:
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{scope['method']} {scope['path'][len(prefix) + 1 :]}?{query}"
        logged: list[int] = []

        def log(status: int) -> None:
            if not logged:
                logged.append(status)
                self.sb.record(vendor, scope["method"], scope["path"], query, status)

        async def logged_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                log(message["status"])  # before the client can read the answer
            await send(message)

        fault = self.sb.take_fault(vendor, target)
        try:
            if fault is None:
                await self.app(scope, receive, logged_send)
            else:
                await self.inject(fault, vendor, scope, receive, logged_send)
        finally:
            log(499)  # no answer was sent: the client gave up (or the connection was cut)

    async def inject(self, fault: Fault, vendor: str, scope: dict, receive: Any, send: Any) -> None:
        emulator = self.sb.vendors[vendor]
        if fault.kind == "lost_answer":
            return await self.lose_answer(fault, scope, receive, send)
        if fault.kind == "slow":
            body = await _read_body(receive)
            if await wait_or_disconnect(receive, fault.delay):
                return  # the client gave up: like a gateway timeout, nothing reached the backend
            replay = [{"type": "http.request", "body": body, "more_body": False}]

            async def replayed() -> dict:
                return replay.pop() if replay else await receive()

            return await self.app(scope, replayed, send)
        await _read_body(receive)
        if fault.kind == "drop":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
            return  # uvicorn closes the connection: the client sees it cut mid-answer
        headers = []
        code = 200 if fault.kind == "malformed" else fault.status
        if fault.kind == "malformed":
            body, content_type = emulator.malformed_body(fault.body)
        elif fault.status in (502, 503, 504):
            body, content_type = gateway_page(fault.status), "text/html"
        else:
            body, content_type = emulator.error_body(fault.status)
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(max(0, round(fault.retry_after))).encode()))
        headers += [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def lose_answer(self, fault: Fault, scope: dict, receive: Any, send: Any) -> None:
        """The vendor does the work and commits it; its answer never reaches the client."""

        async def swallow(message: dict) -> None:
            return None

        await self.app(scope, receive, swallow)
        if fault.lost_as == "timeout":
            await wait_or_disconnect(receive, 3600)  # no answer until the client gives up
        elif fault.lost_as == "cut":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
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


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def connections(sb: Sandbox) -> dict[str, dict[str, Any]]:
    """The four default connections, pointing at this sandbox."""
    c, base, speed = sb.credentials, sb.base_url, sb.speed
    return {
        "flippingbook": {
            "conn_type": "flippingbook",
            "host": f"{base}/flippingbook",
            "password": c.flippingbook_key,
            "extra": {"pacing_speed": speed},
        },
        "flipsnack": {
            "conn_type": "flipsnack",
            "host": f"{base}/flipsnack",
            "login": c.flipsnack_key,
            "password": c.flipsnack_secret,
            "extra": {"upload_host": f"{base}/flipsnack-upload", "pacing_speed": speed},
        },
        "ipaper": {
            "conn_type": "ipaper",
            "host": f"{base}/ipaper",
            "login": "APIKey",
            "password": c.ipaper_api_key,
            "extra": {"viewer_base_url": f"{base}/ipaper/viewer", "pacing_speed": speed},
        },
        "papyrs": {
            "conn_type": "papyrs",
            "host": f"{base}/papyrs",
            "password": c.papyrs_token,
            "extra": {"subsite": "home", "pacing_speed": speed},
        },
    }


def env_lines(sb: Sandbox) -> list[str]:
    return [
        f"AIRFLOW_CONN_{name.upper()}_DEFAULT='{json.dumps(conn)}'" for name, conn in connections(sb).items()
    ]


def create_app(sb: Sandbox) -> Any:
    root = FastAPI(title="flipbook sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    flipsnack = FlipsnackEmulator(sb)
    emulators = {
        "flippingbook": FlippingBookEmulator(sb),
        "flipsnack": flipsnack,
        "ipaper": IPaperEmulator(sb),
        "papyrs": PapyrsEmulator(sb),
    }
    sb.vendors.update(emulators)
    upload = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    flipsnack.upload_app_routes(upload)
    control = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @control.get("/health")
    async def health() -> dict:
        return {"ok": True, "speed": sb.speed, "uptime": round(time.monotonic() - sb.started, 1)}

    @control.post("/faults")
    async def add_fault(request: Request) -> dict:
        spec = await request.json()
        try:
            return asdict(sb.add_fault(**spec))
        except (TypeError, ValueError) as error:
            raise HTTPException(400, str(error)) from None

    @control.get("/faults")
    async def list_faults() -> list:
        return [asdict(f) for f in sb.faults]

    @control.delete("/faults")
    async def clear_faults() -> dict:
        sb.faults.clear()
        return {"ok": True}

    @control.get("/state")
    async def state() -> dict:
        return sb.state()

    @control.get("/requests")
    async def requests_log(vendor: str | None = None) -> list:
        return [asdict(e) for e in sb.log if vendor in (None, e.vendor)]

    @control.post("/options")
    async def options(request: Request) -> dict:
        for vendor, values in (await request.json()).items():
            target = getattr(sb.vendors.get(vendor), "options", None)
            if target is None or not set(values) <= set(target):
                raise HTTPException(400, f"unknown options for {vendor}: {sorted(values)}")
            target.update(values)
        return {v: getattr(e, "options", {}) for v, e in sb.vendors.items()}

    @control.post("/reset")
    async def reset() -> dict:
        sb.reset()
        return {"ok": True}

    @control.get("/signatures")
    async def signatures() -> list:
        """Every Flipsnack signature received: tests scan task logs for them."""
        return sorted(sb.signatures)

    @control.get("/connections")
    async def conns() -> dict:
        return connections(sb)

    root.mount("/_sandbox", control)
    root.mount("/flipsnack-upload", upload)
    for name, emulator in emulators.items():
        root.mount(f"/{name}", emulator.app)
    return FaultMiddleware(root, sb)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SandboxServer:
    """Run the sandbox in a background thread (pytest plugin, benchmarks, ``make demo``)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, speed: float = 1.0, **options: Any) -> None:
        self.host, self.port = host, port or free_port(host)
        self.sandbox = Sandbox(speed=speed, base_url=f"http://{host}:{self.port}", **options)
        config = uvicorn.Config(
            create_app(self.sandbox),
            host=host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.sandbox.base_url

    def start(self) -> SandboxServer:
        self.thread = threading.Thread(target=self._run, name="flipbook-sandbox", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the sandbox did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread:
            self.thread.join(timeout=10)
        self.sandbox.close()

    def connections(self) -> dict[str, dict[str, Any]]:
        return connections(self.sandbox)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
