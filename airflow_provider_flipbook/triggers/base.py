"""The polling loop every trigger of this provider shares."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flipbook._compat import aget_connection
from airflow_provider_flipbook.hooks import PUBLISHING_VENDORS, hook_for


class StatusPollingTrigger(BaseTrigger):
    """Poll ``check(hook)`` every ``poll_interval`` s until it leaves ``running`` or ``deadline``
    (a ``time.time()`` timestamp, so a trigger moved to another triggerer keeps it) passes.

    Events: ``{"status": "success"|"failed"|"timeout"|"error", "message": ..., "result": {...}}``.
    """

    vendors: tuple[str, ...] = PUBLISHING_VENDORS

    def __init__(self, *, conn_id: str, poll_interval: float, deadline: float, wait_first: bool = True,
                 **target: Any) -> None:
        super().__init__()
        self.conn_id, self.poll_interval, self.deadline, self.target = conn_id, float(poll_interval), float(deadline), target
        self.wait_first = wait_first  # the task has just checked: the first check here waits one interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"conn_id": self.conn_id, "poll_interval": self.poll_interval, "deadline": self.deadline,
                 "wait_first": self.wait_first, **self.target})

    async def hook(self) -> Any:
        connection, extras = await aget_connection(self.conn_id)  # no sync masking on the event loop
        hook = hook_for(self.conn_id, vendors=self.vendors, connection=connection)
        hook.__dict__["extras"] = extras
        return hook

    def check(self, hook: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            hook = await self.hook()
            if self.wait_first:
                await asyncio.sleep(max(min(self.poll_interval, self.deadline - time.time()), 0))
            while True:
                status = await asyncio.to_thread(self.check, hook)
                if status["state"] != "running":
                    yield TriggerEvent({"status": "success" if status["state"] == "success" else "failed",
                                        "message": str(status.get("detail", "")), "result": status, **self.target})
                    return
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield TriggerEvent({"status": "timeout", "message": f"still {status.get('detail')} at the deadline",
                                        **self.target})
                    return
                self.log.info("%s: %s", self.target, status.get("detail"))
                await asyncio.sleep(min(self.poll_interval, remaining))
        except Exception as error:  # one terminal event, never a crashed trigger
            yield TriggerEvent({"status": "error", "message": f"{type(error).__name__}: {error}", **self.target})
