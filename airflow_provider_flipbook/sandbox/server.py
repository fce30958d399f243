"""One server for every emulator, the fault-injection middleware and the ``/_sandbox/`` control API.

The emulators are declared in :mod:`.emulators`. Each is mounted at its own prefixes (``/<vendor>``,
and any second host it plays, such as Flipsnack's upload host). Control API:

* ``GET  /_sandbox/health``            speed and uptime
* ``POST /_sandbox/faults``            queue a fault: ``{"vendor", "kind", "route", "status", "retry_after",
  "delay", "body", "count", "code"}``; kinds ``status`` (500/502/503/429...; ``code``: the vendor's own
  error code in its envelope, e.g. an account's refusal), ``slow`` (answer after
  ``delay`` s; nothing is processed if the client gave up), ``drop`` (connection cut mid-answer),
  ``malformed`` (``body``: truncated, html, empty; iPaper also nocode, xxe, lol), ``lost_answer``
  (the vendor does the work, then the client gets ``lost_as``: a 502 or 504 page, a cut
  connection, or no answer until it gives up), ``echo`` (a ``status`` answer in plain text that
  repeats the credentials the request carried, as a careless vendor might: redaction must hide them)
* ``GET/DELETE /_sandbox/faults``      list or clear queued faults
* ``GET  /_sandbox/state``             object counts per vendor
* ``GET  /_sandbox/requests``          the request log (method, path, redacted query, status)
* ``POST /_sandbox/options``           vendor switches, e.g. ``{"ipaper": {"job_guid": false}}``
* ``POST /_sandbox/replay``            play a recording of a real account (``flipbook-doctor --record``):
  the variants it shows, kept across resets; answers what cannot be played
* ``POST /_sandbox/reset``             forget every object, fault, log entry and rate-limit window
* ``GET  /_sandbox/connections``       one Airflow connection per vendor, as JSON
* ``GET  /_sandbox/signatures``        the Flipsnack signatures received (for secret scans of logs)
* ``GET  /_sandbox/webhooks``          the vendors' webhook calls (FlippingBook's triggers; attempts)
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from dataclasses import asdict
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request

from airflow_provider_flipbook.sandbox.core.faults import FaultMiddleware
from airflow_provider_flipbook.sandbox.core.replay import RecordedShapes, check_recording, replay
from airflow_provider_flipbook.sandbox.core.state import Credentials, SandboxState
from airflow_provider_flipbook.sandbox.emulators import EMULATORS


def connections(state: SandboxState) -> dict[str, dict[str, Any]]:
    """One default connection per emulator, pointing at this sandbox."""
    return {name: emulator.connection() for name, emulator in state.vendors.items()}


def env_lines(state: SandboxState) -> list[str]:
    """``AIRFLOW_CONN_*`` lines for a shell, one per connection."""
    return [
        f"AIRFLOW_CONN_{name.upper()}_DEFAULT='{json.dumps(conn)}'"
        for name, conn in connections(state).items()
    ]


def create_app(state: SandboxState) -> Any:  # noqa: C901 - one small handler per control route, defined inside
    root = FastAPI(title="flipbook sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    for emulator_class in EMULATORS:
        state.vendors[emulator_class.name] = emulator_class(state)
    control = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @control.get("/health")
    async def health() -> dict:
        return {"ok": True, "speed": state.speed, "uptime": round(time.monotonic() - state.started, 1)}

    @control.post("/faults")
    async def add_fault(request: Request) -> dict:
        spec = await request.json()
        try:
            return asdict(state.add_fault(**spec))
        except (TypeError, ValueError) as error:
            raise HTTPException(400, str(error)) from None

    @control.get("/faults")
    async def list_faults() -> list:
        return [asdict(f) for f in state.faults]

    @control.delete("/faults")
    async def clear_faults() -> dict:
        state.faults.clear()
        return {"ok": True}

    @control.get("/state")
    async def object_counts() -> dict:
        return state.state()

    @control.get("/requests")
    async def requests_log(vendor: str | None = None) -> list:
        return [asdict(e) for e in state.log if vendor in (None, e.vendor)]

    @control.post("/options")
    async def options(request: Request) -> dict:
        for vendor, values in (await request.json()).items():
            try:
                state.set_options(vendor, values)
            except ValueError as error:
                raise HTTPException(400, str(error)) from None
        return state.options()

    @control.post("/replay")
    async def replay_recording(request: Request) -> dict:
        try:
            notes = replay(state, check_recording(await request.json()))
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        return {"options": state.options(), "notes": notes}

    @control.post("/reset")
    async def reset() -> dict:
        state.reset()
        return {"ok": True}

    @control.get("/signatures")
    async def signatures() -> list:
        """Every Flipsnack signature received: tests scan task logs for them."""
        return sorted(state.signatures)

    @control.get("/webhooks")
    async def webhook_deliveries() -> list:
        """List the vendors' webhook calls (FlippingBook's triggers): event, body, attempts, tokens masked."""
        return [delivery for emulator in state.vendors.values() for delivery in emulator.webhook_deliveries()]

    @control.get("/connections")
    async def conns() -> dict:
        return connections(state)

    root.mount("/_sandbox", control)
    for name, emulator in state.vendors.items():
        for prefix, app in emulator.apps().items():
            state.prefixes[prefix] = name
            root.mount(f"/{prefix}", app)
    return FaultMiddleware(RecordedShapes(root, state), state)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class QueryRedactingAccessLog(logging.Filter):
    """Keep request query strings out of uvicorn's access log.

    Flipsnack's ``apiKey`` and ``signature`` travel there.

    The sandbox asks for no access log, but uvicorn decides per connection from the shared
    ``uvicorn.access`` logger: once anything else in the process configures it (another uvicorn
    server's default logging, a user's test), every request line would be written with its query.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the query of an access record's path with ``***``.

        :param record: a ``uvicorn.access`` record, args ``(client, method, path, http_version, status)``.
        """
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?***", *args[3:])
        return True


def redact_access_log_queries() -> None:
    """Install :class:`QueryRedactingAccessLog` on ``uvicorn.access`` once.

    A logger keeps its filters through ``logging.config.dictConfig``.
    """
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryRedactingAccessLog) for f in access.filters):
        access.addFilter(QueryRedactingAccessLog())


class SandboxServer:
    """The running sandbox: uvicorn in a background thread (pytest plugin, benchmarks, ``make demo``).

    Its :class:`SandboxState` is :attr:`state_store`.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, speed: float = 1.0, **options: Any) -> None:
        self.host, self.port = host, port or free_port(host)
        options.setdefault("credentials", Credentials.generate(EMULATORS))
        self.state_store = SandboxState(speed=speed, base_url=f"http://{host}:{self.port}", **options)
        config = uvicorn.Config(
            create_app(self.state_store),
            host=host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        redact_access_log_queries()
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.state_store.base_url

    @property
    def sandbox(self) -> SandboxState:
        """The old name of :attr:`state_store`, kept for existing callers."""
        return self.state_store

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
        self.state_store.close()

    def connections(self) -> dict[str, dict[str, Any]]:
        return connections(self.state_store)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
