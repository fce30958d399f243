"""The polling loop every trigger of this provider shares.

The triggerer runs every trigger of every provider on one event loop. A status check here never
blocks it, and never holds a thread of asyncio's shared default pool while waiting: pacing is booked
and waited for on the loop (``asyncio.sleep``), the HTTP call alone runs in this provider's own small
pool, and a retry back-off comes back to the loop as :class:`WaitElsewhere` to be awaited there. The
hooks' status functions stay the one copy of the vendor logic; only their sleep policy changes. A
trigger cancelled during a wait leaves at once (no thread is left sleeping).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flipbook._compat import aget_connection
from airflow_provider_flipbook.hooks import hook_for
from airflow_provider_flipbook.triggers.events import error_event, finished_event, timeout_event
from airflow_provider_flipbook.utils.ratelimit import WaitElsewhere

# Threads for the HTTP calls of this provider's triggers (never asyncio's default pool, which every
# provider shares). The calls are short and waits never happen here, so a few threads serve hundreds.
TRIGGER_THREADS = 4
FIRST_POLL_JITTER = 0.1
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def trigger_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=TRIGGER_THREADS, thread_name_prefix="flipbook-trigger")
        return _pool


class LoopWaits:
    """A hook's sleep policy in a trigger: raise :class:`WaitElsewhere` instead of sleeping, and keep the
    error being retried, so the loop can give it up as the hook would after ``max_retries``."""

    def __init__(self, hook: Any) -> None:
        self.error: BaseException | None = None
        log_retry = hook._before_sleep

        def before_sleep(state: Any) -> None:
            self.error = state.outcome.exception() if state.outcome else None
            log_retry(state)

        hook._before_sleep, hook._sleep = before_sleep, self.sleep

    @staticmethod
    def sleep(seconds: float) -> None:
        raise WaitElsewhere(seconds)


class StatusPollingTrigger(BaseTrigger):
    """Poll ``check(hook)`` every ``poll_interval`` s until it leaves ``running`` or ``deadline``
    (a ``time.time()`` timestamp, so a trigger moved to another triggerer keeps it) passes.

    Events: ``{"status": "success"|"failed"|"timeout"|"error", "message": ..., "result": {...}}``.
    """

    vendors: tuple[str, ...] | None = None  # the connection types it serves; None: the publishing ones

    def __init__(
        self, *, conn_id: str, poll_interval: float, deadline: float, wait_first: bool = True, **target: Any
    ) -> None:
        super().__init__()
        self.conn_id, self.poll_interval, self.deadline, self.target = (
            conn_id,
            float(poll_interval),
            float(deadline),
            target,
        )
        self.wait_first = wait_first  # the task has just checked: the first check here waits one interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "wait_first": self.wait_first,
                **self.target,
            },
        )

    async def hook(self) -> Any:
        connection, extras = await aget_connection(self.conn_id)  # no sync masking on the event loop
        hook = hook_for(self.conn_id, vendors=self.vendors, connection=connection)
        hook.__dict__["extras"] = extras
        return hook

    def check(self, hook: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def check_async(self, hook: Any, waits: LoopWaits) -> dict[str, Any]:
        """``check(hook)`` with every wait on the loop: book pacing here, run the call in the provider's
        pool, await a back-off here and run it again, up to the hook's own ``max_retries``."""
        loop, pool, failures = asyncio.get_running_loop(), trigger_pool(), 0
        pacer = await loop.run_in_executor(pool, lambda: hook.pacer)  # may open a file or reach Redis
        while True:
            if pacer is not None:
                await pacer.shared.acquire_async(pool)
                pacer.prepaid = 1  # the call's own acquire() takes this slot instead of booking another
            try:
                return await loop.run_in_executor(pool, self.check, hook)
            except WaitElsewhere as wait:
                if not wait.pacing:  # a retry back-off (pacing for a second request just goes round)
                    failures += 1
                    if failures > hook.max_retries and waits.error is not None:
                        raise waits.error from None
                await asyncio.sleep(wait.seconds)
            finally:
                if pacer is not None:
                    pacer.prepaid = 0

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            if self.wait_first:
                # Up to a tenth of an interval early, at random: waits deferred together (a mapped
                # upload) then spread their set-up and their polls instead of stalling the loop and
                # reaching the vendor in one burst.
                first = self.poll_interval * (1 - random.random() * FIRST_POLL_JITTER)
                await asyncio.sleep(max(min(first, self.deadline - time.time()), 0))
            hook = await self.hook()
            waits = LoopWaits(hook)
            while True:
                status = await self.check_async(hook, waits)
                if status["state"] != "running":
                    yield TriggerEvent(finished_event(status, self.target))
                    return
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield TriggerEvent(timeout_event(status.get("detail"), self.target))
                    return
                self.log.info("%s: %s", self.target, status.get("detail"))
                await asyncio.sleep(min(self.poll_interval, remaining))
        except Exception as error:  # one terminal event, never a crashed trigger
            yield TriggerEvent(error_event(error, self.target))
