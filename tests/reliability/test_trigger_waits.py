"""Triggers never block the triggerer: pacing and retry back-off are awaited on the event loop, the HTTP
call runs in the provider's own small pool (never asyncio's default one), and a trigger cancelled
during a wait leaves at once with no thread left sleeping."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

STATUS_ROUTE = "GET /api/v1/fbonline/publication/"


def flippingbook_conn(sandbox, monkeypatch, name: str, **extras) -> str:
    conn = sandbox.connections()["flippingbook"]
    conn = {**conn, "extra": {**conn["extra"], "pacing_scope": "process", **extras}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(conn))
    return name


def provider_code_running() -> list[str]:
    """Threads (other than this one) whose stack is inside this provider's client code (the sandbox's
    server thread aside): a wait, or a call."""
    busy = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        stack = []
        while frame is not None:
            stack.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")
            frame = frame.f_back
        if any("airflow_provider_flipbook" in entry for entry in stack) and not any(
            "airflow_provider_flipbook/sandbox/" in entry for entry in stack
        ):
            busy.append(" <- ".join(stack[:4]))
    return busy


@pytest.mark.parametrize("wait", ["pacing", "backoff"])
def test_a_trigger_cancelled_during_a_wait_leaves_at_once(sandbox, monkeypatch, wait):
    if wait == "pacing":  # one call per 2 min (after the sandbox's speed-up), and the one is taken
        conn_id = flippingbook_conn(sandbox, monkeypatch, "fb_slow_pacing", rate_limit=f"1/{120 * 50}")
        FlippingBookHook(conn_id).pacer.acquire()
    else:  # the status call answers 503 with Retry-After: 120
        conn_id = flippingbook_conn(sandbox, monkeypatch, "fb_backoff", max_retry_after=300)
        sandbox.fault("flippingbook", route=STATUS_ROUTE, status=503, retry_after=120, count=10)
    trigger = PdfConversionTrigger(
        conn_id=conn_id,
        publication_id="0" * 32,
        poll_interval=0.01,
        deadline=time.time() + 600,
        wait_first=False,
    )

    async def scenario() -> float:
        async def consume() -> list:
            return [event async for event in trigger.run()]

        task = asyncio.create_task(consume())
        await asyncio.sleep(1.0)
        assert not task.done()  # waiting: 120 s of pacing or back-off
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - cancelled_at

    assert asyncio.run(scenario()) < 0.2
    # No thread left sleeping in a pacer or a back-off (120 s each). The poll's list call may still be
    # in flight in the provider's pool when the task is cancelled (a thread cannot be interrupted):
    # it ends with the sandbox's answer, so give in-flight I/O a few seconds before looking.
    for _ in range(50):
        if not provider_code_running():
            break
        time.sleep(0.1)
    assert provider_code_running() == []
    status_calls = [r for r in sandbox.requests("flippingbook") if "/publication/" in r.path]
    assert len(status_calls) == (0 if wait == "pacing" else 1)


def test_backoff_is_retried_on_the_loop_and_given_up_after_max_retries(sandbox, samples, context, fast):
    sandbox.fault("flippingbook", route=STATUS_ROUTE, status=503, count=1000)
    trigger = PdfConversionTrigger(
        conn_id=fast["flippingbook"],
        publication_id="0" * 32,
        poll_interval=0.01,
        deadline=time.time() + 60,
        wait_first=False,
    )

    async def events() -> list:
        return [e.payload async for e in trigger.run()]

    (event,) = asyncio.run(events())
    assert event["status"] == "error" and "TransientApiError" in event["message"]  # the vendor's error, kept
    status_calls = [r for r in sandbox.requests("flippingbook") if "/publication/" in r.path]
    assert len(status_calls) == 1 + 4  # the first try and max_retries (4 in the fast connection)


def test_a_transient_error_is_retried_then_the_trigger_succeeds(sandbox, samples, context, fast):
    from airflow_provider_flipbook.operators import UploadPdfOperator

    result = UploadPdfOperator(
        task_id="u", conn_id=fast["flippingbook"], pdf=str(samples["small"]), name="Retried"
    ).execute(context)
    sandbox.fault("flippingbook", route=STATUS_ROUTE, status=503, count=2)
    trigger = PdfConversionTrigger(
        conn_id=fast["flippingbook"],
        publication_id=result["publication_id"],
        version_id=result["version_id"],
        poll_interval=0.02,
        deadline=time.time() + 60,
        wait_first=False,
    )

    async def events() -> list:
        return [e.payload async for e in trigger.run()]

    (event,) = asyncio.run(events())
    assert event["status"] == "success", event


def test_triggers_never_use_the_default_executor(sandbox, monkeypatch):
    """asyncio's default pool is shared by every trigger of every provider: ours stays out of it."""
    conn_id = flippingbook_conn(sandbox, monkeypatch, "fb_default_pool")
    submitted = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            submitted.append(getattr(fn, "__qualname__", repr(fn)))
            return super().submit(fn, *args, **kwargs)

    triggers = [
        PdfConversionTrigger(
            conn_id=conn_id,
            publication_id="0" * 32,
            poll_interval=0.01,
            deadline=time.time() + 60,
            wait_first=False,
        )
        for _ in range(5)
    ]

    async def scenario() -> list:
        asyncio.get_running_loop().set_default_executor(Counting(max_workers=2))

        async def first(trigger):
            return [e.payload async for e in trigger.run()][0]

        return await asyncio.gather(*(first(t) for t in triggers))

    events = asyncio.run(scenario())
    assert [e["status"] for e in events] == ["failed"] * 5  # the publication does not exist: a clean answer
    assert not [name for name in submitted if "check" in name or "acquire" in name], submitted
