"""How a hook runs on the triggerer's event loop (:meth:`FlipbookBaseHook.acall`).

The triggerer runs every trigger of every provider on one event loop. A call made here never blocks
it and never holds a thread of asyncio's shared default pool while waiting: pacing is booked and
awaited on the loop (``asyncio.sleep``), the HTTP call alone runs in this provider's own small pool,
and a retry back-off is awaited on the loop too. The hook's blocking methods stay the one copy of the
vendor logic; on the loop they try each request once and raise :class:`WaitElsewhere` instead of
sleeping (see ``FlipbookBaseHook.on_event_loop``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from airflow_provider_flipbook.utils.listing_json import decode_entry, entries_at, key_reader
from airflow_provider_flipbook.utils.paging import Page
from airflow_provider_flipbook.utils.ratelimit import WaitElsewhere

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence

    from airflow_provider_flipbook._compat import Connection
    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook

T = TypeVar("T")
log = logging.getLogger(__name__)

# Threads for the HTTP calls made from the event loop (never asyncio's default pool, which every
# provider shares). The calls are short and no wait happens here, so a few threads serve thousands.
PROVIDER_THREADS = 4
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def provider_pool() -> ThreadPoolExecutor:
    """Return this provider's own small thread pool for blocking calls made from an event loop."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=PROVIDER_THREADS, thread_name_prefix="flipbook-loop")
        return _pool


# A mapped upload defers hundreds of waits that the triggerer starts in one loop iteration. Each
# fetching its own connection (Airflow's lookup, parsing and secret masking: about a millisecond on
# the loop) held the loop for 0.2-0.6 s at 500-2000 waits. So the waits that start together share one
# fetch per connection id, reused for a few seconds (a changed connection is seen that much later).
CONNECTION_REUSE_SECONDS = 5.0
# Waits let through per loop iteration (see start_turn): their first steps, hook included, then
# take a few milliseconds per iteration however many start together.
STARTS_PER_ITERATION = 25

_connections: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, tuple[float, asyncio.Task[tuple[Connection, dict[str, Any]]]]]
] = weakref.WeakKeyDictionary()
_start_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _StartQueue] = weakref.WeakKeyDictionary()
_in_flight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _SharedCall]] = (
    weakref.WeakKeyDictionary()
)


async def shared_connection(conn_id: str) -> tuple[Connection, dict[str, Any]]:
    """Fetch the connection and its extras (secrets masked) without blocking the loop.

    Callers on one loop within :data:`CONNECTION_REUSE_SECONDS` share one fetch (a failed fetch is not
    kept).

    :param conn_id: the Airflow connection
    """
    from airflow_provider_flipbook._compat import aget_connection

    loop = asyncio.get_running_loop()
    fetches = _connections.setdefault(loop, {})
    now = time.monotonic()
    held = fetches.get(conn_id)
    if held is None or now - held[0] > CONNECTION_REUSE_SECONDS or _failed(held[1]):
        held = fetches[conn_id] = (now, loop.create_task(aget_connection(conn_id)))
    # shield: one waiter cancelled (its trigger removed) does not cancel the others' fetch
    connection, extras = await asyncio.shield(held[1])
    return connection, dict(extras)


@dataclass
class _SharedCall:
    task: asyncio.Task[Any]
    callers: int = 0


async def shared_call(key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
    """``await call()``, one call shared by every caller on this loop asking with the same ``key``.

    Waits on one object that poll at the same moment (or queue for pacing together) cost one request,
    not one each. One caller cancelled leaves the call to the others; the last caller cancelled
    cancels it, so no back-off or pacing wait outlives the triggers that asked.

    :param key: what the call asks (the trigger's class, connection and target).
    :param call: makes the call, e.g. ``lambda: hook.acall(trigger.check, vendor_hook)``.
    """
    loop = asyncio.get_running_loop()
    running = _in_flight.setdefault(loop, {})
    shared = running.get(key)
    if shared is None:
        shared = running[key] = _SharedCall(loop.create_task(call()))  # type: ignore[arg-type]
        shared.task.add_done_callback(lambda done: _forget(running, key, done))
    shared.callers += 1
    try:
        return cast("T", await asyncio.shield(shared.task))
    finally:
        shared.callers -= 1
        if not shared.callers and not shared.task.done():  # the last caller was cancelled
            shared.task.cancel()
            _forget(running, key, shared.task)


def _forget(running: dict[Hashable, _SharedCall], key: Hashable, task: asyncio.Task[Any]) -> None:
    """Drop ``key``'s entry if it is still ``task``'s: later callers start a new call."""
    if key in running and running[key].task is task:
        del running[key]


def _failed(fetch: asyncio.Task[Any]) -> bool:
    return fetch.done() and (fetch.cancelled() or fetch.exception() is not None)


class _StartQueue:
    """Futures of the waits queued to start, released :data:`STARTS_PER_ITERATION` per iteration."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.waiting, self.releasing = loop, deque[asyncio.Future[None]](), False

    def release(self) -> None:
        for _ in range(min(STARTS_PER_ITERATION, len(self.waiting))):
            turn = self.waiting.popleft()
            if not turn.done():  # a cancelled wait left the queue
                turn.set_result(None)
        # call_soon from a callback runs at the next iteration: the released waits run in between
        self.releasing = bool(self.waiting)
        if self.releasing:
            self.loop.call_soon(self.release)


async def start_turn() -> None:
    """Wait for this wait's turn to start.

    At most :data:`STARTS_PER_ITERATION` waits are let through per loop iteration, first come, first
    served, so a thousand waits deferred together (a mapped upload) build their hooks and join their
    polls over many iterations, never in one.
    """
    loop = asyncio.get_running_loop()
    queue = _start_queues.get(loop)
    if queue is None:
        queue = _start_queues[loop] = _StartQueue(loop)
    turn = loop.create_future()
    queue.waiting.append(turn)
    if not queue.releasing:
        queue.releasing = True
        loop.call_soon(queue.release)
    await turn


async def call_on_loop(hook: FlipbookBaseHook, function: Callable[[], T]) -> T:
    """Run the body of :meth:`FlipbookBaseHook.acall` (read it there)."""
    loop, pool = asyncio.get_running_loop(), provider_pool()
    pacer = await loop.run_in_executor(pool, lambda: hook.pacer)  # may open a file or reach Redis
    failures, started = 0, time.monotonic()

    def booked() -> T:
        if pacer is None:
            return function()
        with pacer.booked_ahead():  # the first request takes the slot booked on the loop
            return function()

    while True:
        if pacer is not None:
            await pacer.acquire_async(pool)
        try:
            return await loop.run_in_executor(pool, booked)
        except WaitElsewhere as wait:  # a second request of ``function`` found no free slot: go round
            await asyncio.sleep(wait.seconds)
        except Exception as error:
            if not getattr(error, "retryable", False):
                raise
            failures += 1
            deadline = hook.setting("retry_deadline")
            if failures > hook.max_retries or time.monotonic() - started >= deadline:
                raise
            seconds = hook.retry_wait(error, failures)
            hook.log.warning("%s; retry %s of %s in %.1f s", error, failures, hook.max_retries, seconds)
            await asyncio.sleep(seconds)


async def apaged(
    fetch: Callable[[int, int], Awaitable[Sequence[T]]], page_size: int, *, max_pages: int = 10_000
) -> AsyncIterator[Sequence[T]]:
    """Page through a list in async code, one page at a time.

    :func:`~airflow_provider_flipbook.utils.paging.paged` for async code: a short page ends it; a page
    equal to the previous one, or ``max_pages``, ends it with a warning. A page that says how long the
    whole list is (:class:`~airflow_provider_flipbook.utils.paging.Page`) ends it once that many
    entries are read (no empty page is asked for), and a short page does not end it while the total
    says more follow (a vendor capping pages below ``page_size``).
    """
    offset, previous = 0, None
    for _ in range(max_pages):
        page = await fetch(offset, page_size)
        if page and page == previous:
            log.warning(
                "Paging stopped: the page at offset %s repeats the previous one (the vendor seems to ignore "
                "the offset); the list may be incomplete",
                offset,
            )
            return
        yield page
        total = getattr(page, "total", None)
        offset, previous = offset + len(page), page
        if not page or (total is not None and offset >= total):
            return
        if len(page) < page_size and total is None:
            return
    log.warning("Paging stopped after %s pages of %s: the list may be incomplete", max_pages, page_size)


@dataclass(frozen=True)
class Listing:
    """A vendor's list call that answers many waits at once.

    One request per page, shared by every wait and watcher on one account
    (:mod:`airflow_provider_flipbook.triggers.account_poll`).

    :param name: what it lists, unique per vendor (``publications``)
    :param page: the name of the hook method that fetches one page, ``(offset, count) -> list[dict]``;
        with ``page_size`` 0 (the vendor answers with the whole list), ``() -> list[dict]``
    :param key: the entry field that identifies an object (``id``)
    :param page_size: entries per page, or 0
    :param page_size_from: the name of a hook attribute that gives the page size instead (where the
        vendor documents none, it is a connection extra)
    :param volatile: entry fields that change while the object's state does not (a progress figure):
        a wait is not woken when only they changed (:mod:`~airflow_provider_flipbook.triggers.account_poll`)
    :param entries_at: the keys from a page's JSON body down to its array of entries: those entries are
        kept undecoded until read, out of the garbage collector's reach
        (:mod:`~airflow_provider_flipbook.utils.listing_json`); empty: decoded as usual
    """

    name: str
    page: str
    key: str
    page_size: int = 0
    page_size_from: str = ""
    volatile: tuple[str, ...] = ()
    entries_at: tuple[str, ...] = ()

    async def fetch(self, hook: FlipbookBaseHook) -> Page[Any]:
        """Every entry, one :meth:`~FlipbookBaseHook.acall` per page (each paced on the loop).

        Entries at ``entries_at`` come back undecoded (``msgspec.Raw``): read them with :meth:`key_of`
        and :meth:`decoded`. The answer's ``total`` is the list's length when every page gave the same
        one (None when the vendor gives none, or the list grew or shrank between the round's pages).

        :param hook: the account's hook.
        """
        method = getattr(hook, self.page)
        if self.entries_at:
            method = functools.partial(_entries_left_undecoded, self.entries_at, method)
        page_size = int(getattr(hook, self.page_size_from)) if self.page_size_from else self.page_size
        if not page_size:
            return Page(await hook.acall(method))
        entries: list[Any] = []
        totals = set()
        async for page in apaged(lambda offset, count: hook.acall(method, offset, count), page_size):
            entries.extend(page)
            totals.add(getattr(page, "total", None))
        return Page(entries, totals.pop() if len(totals) == 1 else None)

    def key_of(self, entry: Any) -> str:
        """Return an entry's ``key`` field as text (``"None"`` when it has none), decoded or not.

        :param entry: an entry :meth:`fetch` returned
        """
        return key_reader(self.key)(entry)

    @staticmethod
    def decoded(entry: Any) -> Any:
        """Return an entry as a dict, decoding it now if its page left it as JSON (``entries_at``).

        :param entry: an entry :meth:`fetch` returned, or None
        """
        return decode_entry(entry)


def _entries_left_undecoded(path: tuple[str, ...], method: Callable[..., T], *args: Any) -> T:
    """Call a listing's page method (in a pool thread) with its entries at ``path`` left as JSON."""
    with entries_at(path):
        return method(*args)


__all__ = [
    "PROVIDER_THREADS",
    "Listing",
    "apaged",
    "call_on_loop",
    "provider_pool",
    "shared_call",
    "shared_connection",
    "start_turn",
]
