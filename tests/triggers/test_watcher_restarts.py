"""A watcher restarted at the bad moments, under Airflow's own ``TriggerRunner`` and over real HTTP.

The runner queues each yielded event; its loop sends the queue to the supervisor, which writes the
events to the database; a stopping runner never sends what is still queued. The watermark (in the
asset state store, 3.3+) must move on exactly when an event has been sent: a restart then neither
repeats an event that reached Airflow nor loses one that did not. Each test stops the runner at one
moment, restarts a watcher on the same store and checks what reached the "database" (``sent``).
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from airflow.jobs.triggerer_job_runner import TriggerRunner

from airflow_provider_flipbook.events import payload_events
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.triggers.watchers import PublicationEventTrigger

WAIT = 20.0  # seconds before a wait for the sandbox gives up (a hang guard, not a measure)


class MemoryAccessor:
    """One asset's state store as the triggerer injects it on 3.3 (aget/aset), kept across restarts."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value


class Store:
    def __init__(self) -> None:
        self.accessor = MemoryAccessor()
        self._by_name = {"flipbooks": self.accessor}


class Triggerer:
    """Airflow's ``TriggerRunner`` running one watcher; ``send`` is what its loop's state sync does."""

    def __init__(self, store: Store, sent: list[str]) -> None:
        trigger = PublicationEventTrigger(
            conn_id="flippingbook_default", events=["converted"], poll_interval=0.2
        )
        trigger.asset_state_store = store
        self.store, self.sent = store, sent
        self.runner = TriggerRunner()
        self.runner.triggers[1] = {"name": "watcher", "events": 0, "is_watcher": True, "task": None}
        self.task = asyncio.get_running_loop().create_task(self.runner.run_trigger(1, trigger))

    async def until(self, condition: Any, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if self.task.done():
                raise AssertionError(f"the watcher ended: {self.task.exception()!r}")
            assert time.monotonic() < deadline, f"never: {what}"
            await asyncio.sleep(0.02)

    async def baseline(self) -> None:
        await self.until(lambda: self.store.accessor.values, "the watcher's baseline")

    async def queued(self) -> None:
        await self.until(lambda: self.runner.events, "an event in the runner's queue")

    def send(self) -> None:
        """The runner's state sync: the queue goes to the supervisor, which persists it."""
        while self.runner.events:
            event = self.runner.events.popleft()[1]
            self.sent.extend(item["name"] for item in payload_events(event.payload))

    async def stop(self, *, shutdown: bool) -> None:
        """Cancel the watcher: the triggerer shutting down (what is queued is dropped) or not."""
        self.runner.stop = shutdown
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        if shutdown:
            self.runner.events.clear()


def publish(samples: Any, name: str) -> None:
    data = base64.b64encode(samples["three"].read_bytes()).decode()
    FlippingBookHook().call("POST", "/api/v1/fbonline/publication", json={"name": name, "data": data})


async def publish_async(samples: Any, name: str) -> None:
    await asyncio.to_thread(publish, samples, name)


async def next_sent(triggerer: Triggerer) -> None:
    await triggerer.queued()
    triggerer.send()


def test_a_shutdown_before_the_event_was_sent_emits_it_again_once(sandbox, samples):
    async def scenario() -> list[str]:
        store, sent = Store(), []
        first = Triggerer(store, sent)
        await first.baseline()
        await publish_async(samples, "Queued")
        await first.queued()
        await first.stop(shutdown=True)  # dropped by the runner: must not be lost
        second = Triggerer(store, sent)
        await next_sent(second)
        await publish_async(samples, "Later")
        await next_sent(second)
        await second.stop(shutdown=True)
        return sent

    assert asyncio.run(scenario()) == ["Queued", "Later"]


def test_a_shutdown_right_after_the_event_was_sent_does_not_repeat_it(sandbox, samples):
    async def scenario() -> list[str]:
        store, sent = Store(), []
        first = Triggerer(store, sent)
        await first.baseline()
        await publish_async(samples, "Sent")
        await first.queued()
        first.send()
        await first.stop(shutdown=True)  # before the watcher could look at the queue again
        second = Triggerer(store, sent)
        await second.baseline()
        await publish_async(samples, "Later")
        await next_sent(second)  # the first event the restarted watcher sends
        await second.stop(shutdown=True)
        return sent

    assert asyncio.run(scenario()) == ["Sent", "Later"]


def test_a_watcher_cancelled_in_a_running_triggerer_does_not_repeat_its_queued_event(sandbox, samples):
    """A paused DAG or a trigger moved elsewhere: the runner goes on and still sends the queue."""

    async def scenario() -> list[str]:
        store, sent = Store(), []
        first = Triggerer(store, sent)
        await first.baseline()
        await publish_async(samples, "Queued")
        await first.queued()
        await first.stop(shutdown=False)
        first.send()
        second = Triggerer(store, sent)
        await second.baseline()
        await publish_async(samples, "Later")
        await next_sent(second)
        await second.stop(shutdown=True)
        return sent

    assert asyncio.run(scenario()) == ["Queued", "Later"]
