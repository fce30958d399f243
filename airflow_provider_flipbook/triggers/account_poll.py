"""One poll per vendor account in the triggerer: every wait on one credential shares one list call.

A mapped upload defers one wait per publication. Polled alone, N waits cost N status requests per
interval against limits of about one call a second, and every upload on the same key queues behind
them. Here the waits on one account (same vendor, base URL, credential and extras; keyed by a hash,
never the secret) subscribe to one :class:`AccountPoll`, which fetches the vendor's status list
(:class:`~airflow_provider_flipbook.hooks.event_loop.Listing`, one paced request per page) once a
round and hands every subscriber the whole answer (:class:`Round`). A wait reads its own entry
(``hook.listed_conversion_status``) and asks the vendor alone only where the list cannot tell (a
FlippingBook version after the first, an iPaper paper that left the processing list); those calls
queue first come, first served on the account's pacer, so they are shared fairly among the waits.

Rounds: the first when the first subscriber is due, then one every ``interval`` of the most eager
subscriber. A subscriber gets every round that starts after it joined (a late joiner is answered at
the next round), keeps its own deadline, and leaves by leaving :func:`subscribe`'s block (a cancelled
trigger leaves at once). The poll stops when its last subscriber leaves. A subscriber that names its
object (``key``) is woken only when that object's entry changed (or a round failed), fields the
listing calls volatile (iPaper's progress) aside: waking two thousand waits every round to read an
entry whose state had not changed kept the loop busy for nothing.

Watchers (``triggers/watchers.py``) subscribe the same way and read each round's full listing.

Several triggerers (HA): each triggerer process runs its own poll per account for the waits it
holds, so an account costs at most one list round per triggerer per interval. Their requests are
bounded together only by the pacing scope: ``pacing_scope="redis"`` makes every host share one
pacer per credential (``host``, the default, covers the triggerers of one machine).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import weakref
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.hooks.event_loop import Listing

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook

log = logging.getLogger(__name__)
# Subscribers woken per loop iteration: a round answers them all at once, and woken together,
# hundreds of waits (each reading its entry and logging) would hold the loop past the triggerer's
# blocked-loop threshold (0.2 s) in one iteration.
DELIVERY_BATCH = 20
# Subscribers looked at (entries compared) per loop iteration, woken or not.
CHECK_BATCH = 500
_UNSEEN: Any = object()


@dataclass(frozen=True)
class Round:
    """One round's answer: the listing's entries (and by key), or the error that ended the round.

    A JSON listing's entries are kept as JSON (``listed``, ``by_key``: objects the garbage collector
    does not track, see :mod:`~airflow_provider_flipbook.utils.listing_json`) and decoded when read.

    ``steady``: every page of the round gave the list's length, the same as the last round's. Then no
    object was created or deleted meanwhile, so none was skipped by the others moving between pages;
    an object the round did not list moved by a change of its own (an order by modification).
    """

    number: int
    started: float  # time.time() when the list call began: the answer is at least this fresh
    listed: list[Any] = field(default_factory=list)
    by_key: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    steady: bool = False

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Every entry of the round, decoded (a watcher's read; a wait reads its own :meth:`entry`)."""
        return [Listing.decoded(entry) for entry in self.listed]

    def entry(self, key: Any) -> dict[str, Any] | None:
        """Return the entry of the object ``key`` (its first, if listed twice), or None when not listed.

        :param key: the object's id (compared as text)
        """
        return Listing.decoded(self.by_key.get(str(key)))


class Subscription:
    """One wait's or watcher's place in an account poll.

    :param poll: the account's poll
    :param interval: seconds between the rounds this subscriber wants
    :param first_due: when its first round is due (``time.time()`` seconds)
    :param key: the object it waits on: woken only when its entry changed; None: every round
    """

    def __init__(self, poll: AccountPoll, interval: float, first_due: float, key: Any = None) -> None:
        self.poll, self.interval, self.first_due = poll, interval, first_due
        self.key = None if key is None else str(key)
        # Set by a wait whose entry cannot tell (it asks the vendor alone): then woken every round.
        self.every_round = key is None
        self._latest: Round | None = None
        self._seen = 0
        self._entry: Any = _UNSEEN
        self._arrived = asyncio.Event()

    def wants(self, answer: Round) -> bool:
        """Tell whether this round concerns the subscriber.

        Its first, a failed one, every one when it asked for every round, else one where its object's
        entry changed.

        :param answer: the round
        """
        if self.every_round or answer.error is not None:
            return True
        entry = answer.by_key.get(self.key)  # type: ignore[arg-type]
        if entry == self._entry or self._same_state(entry):
            return False
        self._entry = entry
        return True

    def _same_state(self, entry: dict[str, Any] | None) -> bool:
        """Tell whether ``entry`` differs from the last one woken for only in the listing's volatile fields."""
        before, volatile = self._entry, self.poll.listing.volatile
        if not volatile or not isinstance(entry, dict) or not isinstance(before, dict):
            return False
        return entry.keys() == before.keys() and all(
            value == before[name] for name, value in entry.items() if name not in volatile
        )

    def deliver(self, answer: Round) -> None:
        """Hand this subscriber a round's answer (the newest one wins).

        :param answer: the round
        """
        self._latest = answer
        self._arrived.set()

    async def next(self) -> Round:
        """Wait for the next round after the last one returned (the newest, if several came meanwhile).

        :raises: the round's error, when its list call failed after the hook's retries
        """
        while self._latest is None or self._latest.number <= self._seen:
            self._arrived.clear()
            await self._arrived.wait()
        answer, self._latest = self._latest, None  # a round holds every entry: keep none past its use
        self._seen = answer.number
        if answer.error is not None:
            raise answer.error
        return answer


class AccountPoll:
    """The rounds of one listing on one account, for as long as anyone subscribes.

    :param key: the account's key (vendor, base URL, a hash of the credential and extras)
    :param hook: the account's hook
    :param listing: the list call of each round
    """

    def __init__(self, key: tuple[str, ...], hook: FlipbookBaseHook, listing: Listing) -> None:
        self.key, self.hook, self.listing = key, hook, listing
        self.subscribers: list[Subscription] = []
        self.rounds = 0
        self._last_start: float | None = None
        self._last_total: int | None = None  # the list's length at the last round, where the vendor gives it
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def next_round_at(self) -> float:
        """When the next round starts: the first subscriber's due time, then one interval of the most eager."""
        if self._last_start is None:
            return min(s.first_due for s in self.subscribers)
        return self._last_start + min(s.interval for s in self.subscribers)

    def join(self, subscription: Subscription) -> None:
        """Add a subscriber; the first one starts the rounds.

        :param subscription: the subscriber
        """
        self.subscribers.append(subscription)
        self._changed.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"account poll {self.key[0]}"
            )

    def leave(self, subscription: Subscription) -> None:
        """Remove a subscriber; the rounds stop after the last one leaves.

        :param subscription: the subscriber
        """
        self.subscribers.remove(subscription)
        self._changed.set()

    async def stop(self) -> None:
        """Cancel the rounds at once (the triggerer shuts down)."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self.subscribers:
            wait = self.next_round_at() - time.time()
            if wait > 0:  # a joiner or a leaver may move the next round: wake up and look again
                self._changed.clear()
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
                continue
            members, started = list(self.subscribers), time.time()
            self._last_start, self.rounds = started, self.rounds + 1
            try:
                entries = await self.listing.fetch(self.hook)
                by_key: dict[str, Any] = {}
                for entry in entries:
                    by_key.setdefault(self.listing.key_of(entry), entry)
                total = getattr(entries, "total", None)
                steady = total is not None and total == self._last_total
                self._last_total = total
                answer = Round(self.rounds, started, entries, by_key, steady=steady)
            except Exception as error:  # every subscriber of the round gets it, as a lone poll would
                answer = Round(self.rounds, started, error=error)
            woken = 0
            for checked, subscription in enumerate(members, 1):
                if subscription.wants(answer):
                    subscription.deliver(answer)
                    woken += 1
                if woken == DELIVERY_BATCH or checked % CHECK_BATCH == 0:
                    woken = 0
                    await asyncio.sleep(0)  # let the woken waits run before waking more


# One registry per event loop: the triggerer has one; tests and `dags test` start several in turn.
_polls: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], AccountPoll]] = (
    weakref.WeakKeyDictionary()
)


def account_key(hook: FlipbookBaseHook, listing: Listing) -> tuple[str, ...]:
    """Return what makes two waits share a poll.

    Vendor, base URL, listing, and a hash of the credential and the extras (two connections that
    differ in pacing or retries do not share one hook's settings).

    :param hook: a hook whose connection is fetched already
    :param listing: the list call
    """
    connection = hook.connection
    secret = json.dumps([connection.login, connection.password, hook.extras], sort_keys=True, default=str)
    return (hook.vendor, hook.base_url, listing.name, hashlib.sha256(secret.encode()).hexdigest()[:24])


def active_polls() -> list[AccountPoll]:
    """Return the account polls running on this event loop (for tests and benchmarks)."""
    return list(_polls.get(asyncio.get_running_loop(), {}).values())


@asynccontextmanager
async def subscribe(
    hook: FlipbookBaseHook,
    listing: Listing,
    *,
    interval: float,
    first_due: float | None = None,
    key: Any = None,
) -> AsyncIterator[Subscription]:
    """Join the account's poll of ``listing`` (starting it if needed) for the ``async with`` block.

    :param hook: the subscriber's hook (``on_event_loop``); the first subscriber's hook makes the calls
    :param listing: the vendor's list call, e.g. ``hook.status_listing``
    :param interval: seconds between rounds this subscriber wants (the poll follows the smallest)
    :param first_due: when this subscriber wants its first answer (``time.time()``; default now),
        which starts a new poll; a running poll answers at its next round
    :param key: the object waited on (its ``listing.key``): woken only when its entry changes (and at
        every round once the subscriber sets ``every_round``); None (a watcher): every round
    """
    polls = _polls.setdefault(asyncio.get_running_loop(), {})
    account = account_key(hook, listing)
    poll = polls.get(account)
    if poll is None:
        poll = polls[account] = AccountPoll(account, hook, listing)
        log.info("Account poll of %s %s started", hook.vendor, listing.name)
    subscription = Subscription(
        poll, float(interval), time.time() if first_due is None else first_due, key=key
    )
    poll.join(subscription)
    try:
        yield subscription
    finally:
        poll.leave(subscription)
        if not poll.subscribers:
            if polls.get(account) is poll:
                del polls[account]
            log.info("Account poll of %s %s stopped after %s rounds", hook.vendor, listing.name, poll.rounds)
            await poll.stop()


__all__ = ["AccountPoll", "Round", "Subscription", "account_key", "active_polls", "subscribe"]
