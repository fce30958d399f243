"""Asset watchers: vendor events as Airflow asset events, polled.

A DAG author writes::

    Asset("flipbooks", watchers=[AssetWatcher(name="converted",
        trigger=PublicationEventTrigger(conn_id="flippingbook_default", events=["converted"]))])

and reads ``triggering_asset_events[asset][i].extra["payload"]["events"]`` (see
:mod:`airflow_provider_flipbook.events` for the payload).

How they behave:

* **Edge-triggered.** A watcher keeps a small snapshot per object (state and version of a
  publication; visits, last view and not-opened-until date of a tracked link) and emits the
  transitions between two polls, none while a state persists. On its first start it takes a
  baseline and emits nothing for the past, unless ``emit_existing=True``.
* **One asset event per poll.** The transitions seen in one poll travel together under ``events``:
  Airflow gives close asset events to one DAG run and drops the later ones from it.
* **The watermark** (the snapshots) lives in the asset state store on Airflow 3.3+ (AIP-103), keyed
  by the watcher's kwargs, so a triggerer restart, a move to another triggerer or a paused and
  unpaused DAG neither repeats nor loses a transition: the new run diffs against what the last one
  saved when the poll's event has left the triggerer for its supervisor, which writes it to the
  database (:class:`~airflow_provider_flipbook._compat.TriggererOutbox`): a triggerer that stops
  before sending it drops it, and the restarted watcher, diffing against the older watermark, emits
  it again; once sent, the watermark moves on, also when the stop comes in between. Below 3.3 there is
  no store: the snapshots live in the triggerer's memory, and after a restart the watcher takes a new
  baseline: transitions that happened while it was down are not emitted (lost), none is repeated.
* **One list call per account per interval**, however many watchers and waits share the credential:
  every watcher subscribes to the account poll of :mod:`.account_poll`, paced by the provider's pacer
  on the event loop.

What each vendor's listing can tell (the hooks' ``watch_*`` methods read it):

* FlippingBook publications: ``converted`` (the flag ``CompletedAllStages`` appears), ``updated`` (a
  converted publication's last PDF name, page count or modification time changes: a later version
  converted; the list has no version field, so an edit that changes the modification time counts too),
  ``deleted`` (the flags ``Deleted``/``Trashed``, or gone from the list) and ``failed`` (gone before
  its first conversion finished: the vendor deletes a publication whose only source failed; a later
  version's failure is not in the list: use the webhook ``convertationFailed``).
* Flipsnack collections: ``converted`` (every item ``complete``), ``failed`` (an item ``failed``),
  ``deleted`` (gone from the list).
* iPaper papers: ``converted`` when a paper leaves the processing list (iPaper does not say whether
  the job failed there), ``deleted`` when it leaves the paper tree; a job that starts and ends between
  two polls is not seen.
* FlippingBook tracked links (account-wide list, :mod:`.triggers.flippingbook`): ``opened`` (visits
  grew or the last view moved) and ``not_opened`` (the not-opened-until date passed with no visit).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from airflow.triggers.base import BaseEventTrigger, TriggerEvent
from typing_extensions import override

from airflow_provider_flipbook._compat import TriggererOutbox, asset_state_accessors
from airflow_provider_flipbook.events import PUBLICATION_EVENTS, batch_payload, event_item, utc_now_iso
from airflow_provider_flipbook.vendors import publishing_types

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.hooks.publishing import WatchableHook

log = logging.getLogger(__name__)

#: Seconds between two looks at whether the triggerer has sent a yielded event on (it does so about
#: once a second); the watermark is saved right after.
HANDOVER_CHECK = 0.05
#: Seconds a cancelled watcher waits for the save of a sent event's watermark.
HANDOVER_SAVE_TIMEOUT = 1.0
Snapshots = dict[str, dict[str, Any]]
HookT = TypeVar("HookT")  # what a watcher reads of its connection's hook


# -- the diff: pure functions --------------------------------------------------------------------


def matches(snapshot: Mapping[str, Any], object_id: str, filters: Mapping[str, Any]) -> bool:
    """Whether an object passes a watcher's filters: ids (one or a list), a name or title substring."""
    for name, wanted in filters.items():
        if name in ("name", "title"):
            if str(wanted).lower() not in str(snapshot.get("name") or "").lower():
                return False
            continue
        own = object_id if name == "link_id" else str(snapshot.get("publication") or object_id)
        if own not in {str(w) for w in (wanted if isinstance(wanted, (list, tuple)) else [wanted])}:
            return False
    return True


def publication_transitions(
    previous: Snapshots | None,
    current: Snapshots,
    *,
    vendor: str,
    events: Sequence[str],
    filters: Mapping[str, Any],
    observed_at: str,
    emit_existing: bool = False,
    vanished_while_converting: str = "deleted",
) -> tuple[list[dict[str, Any]], Snapshots]:
    """Return the publication events between two polls (``previous`` None: the baseline), and what to keep.

    ``current``: every listed object, ``{id: {"state": converting|converted|failed|deleted|idle,
    "version", "name", "url"}}``. Only the objects passing ``filters`` are watched and kept, as
    ``{"state", "version"}``: the watermark stays small (Airflow's asset state store advises 64 KB).
    An object kept before and no longer listed at all has vanished: ``deleted``, or
    ``vanished_while_converting`` if it was converting (the hook's, e.g. ``failed`` where the vendor
    deletes a publication whose only source failed).
    """
    watched = {oid: snap for oid, snap in current.items() if matches(snap, oid, filters)}
    found: list[tuple[str, str, Mapping[str, Any], Sequence[Any]]] = []
    for oid, now in watched.items():
        old = None if previous is None else previous.get(oid)
        state, version = now["state"], now.get("version")
        if previous is None:
            if emit_existing and state in ("converted", "failed"):
                found.append((state, oid, now, (version,)))
        elif old is None or old["state"] != state:
            if state in ("converted", "failed") or (state == "deleted" and old is not None):
                found.append((state, oid, now, (version,) if state != "deleted" else ()))
        elif state == "converted" and version != old.get("version"):
            found.append(("updated" if "updated" in events else "converted", oid, now, (version,)))
    for oid, old in (previous or {}).items():
        if oid in current or old["state"] == "deleted":
            continue
        if old["state"] == "converting" and vanished_while_converting != "deleted":
            found.append((vanished_while_converting, oid, old, (old.get("version"), "vanished")))
        else:
            found.append(("deleted", oid, old, ()))
    items = [
        event_item(event, vendor, oid, snap.get("url"), observed_at, marks, name=snap.get("name"))
        for event, oid, snap, marks in found
        if event in events
    ]
    return items, {oid: {"state": s["state"], "version": s.get("version")} for oid, s in watched.items()}


# -- the watermark ------------------------------------------------------------------------------


class Watermark:
    """The snapshots of one watcher: in the asset state store (3.3+), else in memory.

    :param trigger: the watcher (its ``asset_state_store``, where Airflow gives one).
    :param key: the entry's name.
    """

    def __init__(self, trigger: BaseEventTrigger, key: str) -> None:
        self.accessors = asset_state_accessors(getattr(trigger, "asset_state_store", None))
        self.key = key

    async def load(self) -> Snapshots | None:
        """Load the snapshots saved by the last round, or None before the first."""
        for accessor in self.accessors:
            value = await accessor.aget(self.key)
            if isinstance(value, dict) and isinstance(value.get("objects"), dict):
                return value["objects"]
        return None

    async def save(self, snapshots: Snapshots) -> None:
        """Keep this round's snapshots for the next one (and for a triggerer restart).

        :param snapshots: the objects as last seen.
        """
        for accessor in self.accessors:  # one trigger row may serve several assets: keep them equal
            await accessor.aset(self.key, {"version": 1, "objects": snapshots})


# -- the triggers ----------------------------------------------------------------------------------


class VendorEventTrigger(BaseEventTrigger, Generic[HookT]):
    """Shared by the watchers: kwargs, serialisation, the account poll and the emit-then-save loop.

    A watcher names its ``allowed_events``, ``allowed_filters`` and ``vendors`` (connection types), the
    hook's ``listings`` it subscribes to, and how a round's answers become ``transitions``.

    :param conn_id: the vendor connection
    :param events: what to report, among ``allowed_events``
    :param poll_interval: seconds between polls (the account's poll follows its most eager watcher)
    :param emit_existing: on the first start, report the present state too instead of a silent baseline
    :param filters: which objects to watch, among ``allowed_filters``
    """

    allowed_events: ClassVar[tuple[str, ...]] = ()
    allowed_filters: ClassVar[tuple[str, ...]] = ()
    vendors: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        conn_id: str,
        events: Sequence[str],
        poll_interval: float = 60.0,
        emit_existing: bool = False,
        **filters: Any,
    ) -> None:
        super().__init__()
        events = [events] if isinstance(events, str) else list(events)
        unknown = sorted(set(events) - set(self.allowed_events)) or (["(none)"] if not events else [])
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: events must be among {self.allowed_events}; got {unknown}"
            )
        bad = sorted(set(filters) - set(self.allowed_filters))
        if bad:
            raise ValueError(f"{type(self).__name__}: unknown filters {bad}; known: {self.allowed_filters}")
        if float(poll_interval) <= 0:
            raise ValueError("poll_interval must be positive")
        self.conn_id, self.events, self.poll_interval = conn_id, sorted(set(events)), float(poll_interval)
        self.emit_existing, self.filters = bool(emit_existing), dict(filters)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the kwargs that rebuild this watcher (its filters among them)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "events": self.events,
                "poll_interval": self.poll_interval,
                "emit_existing": self.emit_existing,
                **self.filters,
            },
        )

    def watermark_key(self) -> str:
        """Return the state-store key: the same for the same watcher, different for different kwargs."""
        digest = hashlib.sha256(json.dumps(self.serialize(), sort_keys=True, default=str).encode())
        return f"flipbook.watch.{digest.hexdigest()[:24]}"

    def listings(self, hook: HookT) -> list[Listing]:
        """Return the hook's listings (account-poll list calls) this watcher subscribes to.

        :param hook: the connection's hook
        """
        raise NotImplementedError

    def transitions(
        self, hook: HookT, previous: Snapshots | None, rounds: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], Snapshots]:
        """Return the events of one poll and the snapshots to keep.

        :param hook: the connection's hook (it reads its listings into snapshots)
        :param previous: the snapshots kept by the last poll; None before the first (the baseline)
        :param rounds: this poll's answers by listing name
        """
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll with the account, yield one event per poll with transitions, then save the watermark."""
        from airflow_provider_flipbook.hooks import ahook_for
        from airflow_provider_flipbook.hooks.event_loop import start_turn
        from airflow_provider_flipbook.triggers.account_poll import subscribe

        outbox = TriggererOutbox.of_caller()  # while run_trigger is on the stack
        await start_turn()  # watchers started together build their hooks over many loop iterations
        connected = await ahook_for(self.conn_id, vendors=self.vendors)
        hook = cast("HookT", connected)  # the vendors' hooks are what this watcher reads
        watermark = Watermark(self, self.watermark_key())
        snapshots = await watermark.load()
        async with AsyncExitStack() as stack:
            subscriptions = {
                listing.name: await stack.enter_async_context(
                    subscribe(connected, listing, interval=self.poll_interval)
                )
                for listing in self.listings(hook)
            }
            while True:
                try:
                    rounds = {name: (await sub.next()).entries for name, sub in subscriptions.items()}
                except Exception as error:  # the poll's list call failed after the hook's retries
                    self.log.warning(
                        "%s: this poll failed (%s); trying again next interval", self.conn_id, error
                    )
                    continue
                items, new = self.transitions(hook, snapshots, rounds)
                if items:
                    self.log.info(
                        "%s: %s", self.conn_id, ", ".join(f"{i['event']} {i['object_id']}" for i in items)
                    )
                    event = TriggerEvent(batch_payload(items))
                    yield event
                    await self._handed_over(outbox, event, watermark, new)
                if new != snapshots:
                    await watermark.save(new)
                    snapshots = new

    @staticmethod
    async def _handed_over(
        outbox: TriggererOutbox | None, event: TriggerEvent, watermark: Watermark, new: Snapshots
    ) -> None:
        """Return once the triggerer has sent ``event`` on (at once outside a triggerer).

        Cancelled before: a stopping triggerer drops the queued event, so the watermark stays (the
        restarted watcher emits the event again); otherwise the event goes out anyway, so it is saved.
        """
        if outbox is None:
            return
        try:
            while outbox.holds(event):  # noqa: ASYNC110 (the runner sets no asyncio.Event to await)
                await asyncio.sleep(HANDOVER_CHECK)
        except asyncio.CancelledError:
            if not (outbox.stopping and outbox.holds(event)):
                # A stopping runner has closed its comms reader: the save gets through, its answer may not.
                with contextlib.suppress(Exception, asyncio.TimeoutError):
                    await asyncio.wait_for(watermark.save(new), HANDOVER_SAVE_TIMEOUT)
            raise


class PublicationEventTrigger(VendorEventTrigger["WatchableHook"]):
    """Publication events of FlippingBook, Flipsnack or iPaper (by the connection's type).

    :param conn_id: the vendor connection
    :param events: any of ``converted``, ``failed``, ``deleted`` and, where the hook's
        ``publication_events`` has it (FlippingBook), ``updated``
    :param poll_interval: seconds between polls (the account's poll follows its most eager watcher)
    :param emit_existing: on the first start, report what is already converted or failed
    :param filters: ``publication_id`` (one id or a list) and ``name`` (a case-insensitive substring)
    """

    allowed_events = PUBLICATION_EVENTS
    allowed_filters = ("publication_id", "name")
    vendors = publishing_types()

    @override
    def listings(self, hook: WatchableHook) -> list[Listing]:
        return list(hook.publication_watch_listings)

    @override
    def transitions(
        self, hook: WatchableHook, previous: Snapshots | None, rounds: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], Snapshots]:
        unknown = sorted(set(self.events) - set(hook.publication_events))
        if unknown:
            raise ValueError(
                f"{unknown}: {hook.vendor}'s listings do not tell these ({self.conn_id}); "
                f"they tell {', '.join(hook.publication_events)}"
            )
        return publication_transitions(
            previous,
            hook.watch_publications(rounds, previous),
            vendor=hook.conn_type,
            events=self.events,
            filters=self.filters,
            observed_at=utc_now_iso(),
            emit_existing=self.emit_existing,
            vanished_while_converting=hook.vanished_while_converting,
        )


__all__ = [
    "HANDOVER_CHECK",
    "PublicationEventTrigger",
    "VendorEventTrigger",
    "Watermark",
    "matches",
    "publication_transitions",
]
