"""The polling loop every trigger of this provider shares.

The triggerer runs every trigger of every provider on one event loop. A trigger here builds its hook
with :func:`~airflow_provider_flipbook.hooks.ahook_for` (the connection fetched asynchronously) and
makes every call through the hook's public :meth:`~airflow_provider_flipbook.hooks.base.FlipbookBaseHook.acall`:
pacing and back-off are awaited on the loop, the HTTP call runs in the provider's own small pool.

A trigger whose vendor lists statuses for a whole account (``listing``) waits on the account's
shared poll (:mod:`~airflow_provider_flipbook.triggers.account_poll`) and reads its answer from each
round; only where the list cannot tell does it ask the vendor alone (``check``).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flipbook.hooks import ahook_for
from airflow_provider_flipbook.hooks.event_loop import shared_call, start_turn
from airflow_provider_flipbook.triggers import account_poll
from airflow_provider_flipbook.triggers.events import error_event, finished_event, timeout_event

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
    from airflow_provider_flipbook.hooks.event_loop import Listing

FIRST_POLL_JITTER = 0.1
HookT = TypeVar("HookT")  # what a trigger's status calls read of its connection's hook


class StatusPollingTrigger(BaseTrigger, Generic[HookT]):
    """Poll until the status leaves ``running`` or ``deadline`` passes.

    ``deadline`` is a ``time.time()`` timestamp, so a trigger moved to another triggerer keeps it.

    Subclasses implement ``check(hook)`` (a blocking status call of the hook, run through
    ``hook.acall``), and may implement ``listing(hook)`` with ``listed_status(hook, round)`` to read
    the status from the account's shared poll.

    Events: ``{"status": "success"|"failed"|"timeout"|"error", "message": ..., "result": {...}}``.

    :param conn_id: the connection to poll with.
    :param poll_interval: seconds between two checks.
    :param deadline: when the wait times out (``time.time()`` seconds, kept across triggerers).
    :param wait_first: wait one interval before the first check (the task has just checked).
    :param target: what is waited for (ids, the upload); it rides in every event.
    """

    vendors: tuple[str, ...] | None = None  # the connection types it serves; None: the publishing ones
    #: The target keywords the wait cannot do without (refused when the trigger is built, in the task,
    #: not when the triggerer first checks), e.g. ``("paper_id",)``.
    target_fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse an incomplete trigger when its class is defined, not when a task defers to it."""
        super().__init_subclass__(**kwargs)
        if cls.check is StatusPollingTrigger.check:
            raise TypeError(f"{cls.__qualname__} must implement check(hook): its status call")
        if (cls.listing is StatusPollingTrigger.listing) != (
            cls.listed_status is StatusPollingTrigger.listed_status
        ):
            raise TypeError(
                f"{cls.__qualname__} must implement both listing() and listed_status(), or neither"
            )

    def __init__(
        self, *, conn_id: str, poll_interval: float, deadline: float, wait_first: bool = True, **target: Any
    ) -> None:
        super().__init__()
        missing = [name for name in self.target_fields if target.get(name) in (None, "")]
        if missing:
            raise TypeError(f"{type(self).__name__} needs {', '.join(missing)}")
        self.conn_id, self.poll_interval, self.deadline, self.target = (
            conn_id,
            float(poll_interval),
            float(deadline),
            target,
        )
        self.wait_first = wait_first  # the task has just checked: the first check here waits one interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger."""
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

    async def hook(self) -> FlipbookBaseHook:
        """Build the vendor hook without blocking the loop (calls go through ``hook.acall``)."""
        return await ahook_for(self.conn_id, vendors=self.vendors)

    def check(self, hook: HookT) -> Mapping[str, Any]:
        """Ask the vendor for the status of this wait alone (blocking: run through ``hook.acall``).

        :param hook: the trigger's hook
        """
        raise NotImplementedError

    def listing(self, hook: HookT) -> Listing | None:
        """Return the account-wide list call that carries this wait's status, or None to poll alone.

        :param hook: the trigger's hook
        """
        return None

    def listed_key(self) -> Any:
        """Return the id of this wait's entry in the listing.

        The poll then wakes the wait only when that entry changes. None: at every round (the status
        depends on more than the entry).
        """
        return None

    def listed_status(self, hook: HookT, answer: account_poll.Round) -> Mapping[str, Any] | None:
        """Read the status from a round of the account poll, or None when the list cannot tell.

        :param hook: the trigger's hook
        :param answer: the round
        """
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait until a terminal status or the deadline; yield one event."""
        try:
            event = await self._wait()
        except Exception as error:  # one terminal event, never a crashed trigger
            event = error_event(error, self.target)
        yield TriggerEvent(event)

    async def _ask(self, hook: FlipbookBaseHook, vendor_hook: HookT) -> Mapping[str, Any]:
        """``check`` through ``hook.acall``: one request shared by the waits asking the same at once.

        :param hook: the hook as the transport (pacing and back-off on the loop).
        :param vendor_hook: the same hook as the vendor's, passed to ``check``.
        """
        asked = (type(self), self.conn_id, json.dumps(self.target, sort_keys=True, default=str))
        return dict(await shared_call(asked, lambda: hook.acall(self.check, vendor_hook)))

    async def _wait(self) -> dict[str, Any]:
        """Poll (alone or on the account's poll) until a terminal status or the deadline."""
        async with AsyncExitStack() as stack:
            await start_turn()  # waits deferred together start over many loop iterations
            hook = await self.hook()
            vendor_hook = cast("HookT", hook)  # the connection types in ``vendors`` have such hooks
            listing = self.listing(vendor_hook)
            subscription = None
            if listing is not None:
                first_due = time.time() + (self.poll_interval if self.wait_first else 0.0)
                subscription = await stack.enter_async_context(
                    account_poll.subscribe(
                        hook,
                        listing,
                        interval=self.poll_interval,
                        first_due=first_due,
                        key=self.listed_key(),
                    )
                )
            elif self.wait_first:
                # Up to a tenth of an interval early, at random: waits deferred together (a mapped
                # upload) spread their polls instead of reaching the vendor in one burst.
                first = self.poll_interval * (1 - random.random() * FIRST_POLL_JITTER)
                await asyncio.sleep(max(min(first, self.deadline - time.time()), 0))
            last_detail = None
            while True:
                status: Mapping[str, Any]
                if subscription is None:
                    status = await self._ask(hook, vendor_hook)
                else:
                    try:
                        answer = await asyncio.wait_for(
                            subscription.next(), max(self.deadline - time.time(), 0.0)
                        )
                    except asyncio.TimeoutError:
                        return timeout_event(last_detail, self.target)
                    listed = self.listed_status(vendor_hook, answer)
                    unlisted = subscription.key not in answer.by_key
                    del answer  # the round holds the account's whole listing: not across the waits below
                    # The list cannot tell (ask alone) or does not list it: woken at every round from now on.
                    subscription.every_round = subscription.every_round or listed is None or unlisted
                    status = listed if listed is not None else await self._ask(hook, vendor_hook)
                if status["state"] != "running":
                    return finished_event(status, self.target)
                if status.get("detail") != last_detail:  # a change, not every round of every wait
                    self.log.info("%s: %s", self.target, status.get("detail"))
                last_detail = status.get("detail")
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    return timeout_event(last_detail, self.target)
                if subscription is None:
                    await asyncio.sleep(min(self.poll_interval, remaining))
