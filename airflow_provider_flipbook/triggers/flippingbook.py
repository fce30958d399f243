"""FlippingBook's asset watcher: tracked-link events, polled from the account-wide link list.

A DAG author writes::

    Asset("tracked_links", watchers=[AssetWatcher(name="opened",
        trigger=TrackedLinkEventTrigger(conn_id="flippingbook_default", events=["opened"]))])

It behaves as every watcher of :mod:`.triggers.watchers` (edge-triggered, one asset event per poll,
the watermark in the asset state store, one list call per account per interval): ``opened`` when a
link's visits grew or its last view moved, ``not_opened`` when its not-opened-until date passed with
no visit (reported once per date).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from airflow_provider_flipbook.events import event_item, utc_now_iso
from airflow_provider_flipbook.triggers.watchers import Snapshots, VendorEventTrigger, matches

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

VENDOR = "flippingbook"
#: What a tracked-link watcher can be asked for.
LINK_EVENTS = ("opened", "not_opened")


def link_transitions(
    previous: Snapshots | None,
    current: Snapshots,
    *,
    events: Sequence[str],
    filters: Mapping[str, Any],
    observed_at: str,
    now: dt.datetime,
    emit_existing: bool = False,
) -> tuple[list[dict[str, Any]], Snapshots]:
    """Return the tracked-link events between two polls, and what to keep.

    What is kept remembers which not-opened dates were reported. ``current``: ``{id: {"visits",
    "last_viewed", "until", "name", "publication", "url"}}``; only the links passing ``filters`` are
    watched and kept.
    """
    found: list[tuple[str, str, dict[str, Any], Sequence[Any]]] = []
    kept: Snapshots = {}
    for oid, snap in current.items():
        if not matches(snap, oid, filters):
            continue
        old = None if previous is None else previous.get(oid)
        reported = bool(old and old.get("not_opened_reported"))
        visits, last = int(snap.get("visits") or 0), snap.get("last_viewed")
        opened = (
            visits > 0
            if old is None
            else visits > int(old.get("visits") or 0) or (last is not None and last != old.get("last_viewed"))
        )
        if opened and (previous is not None or emit_existing):
            found.append(("opened", oid, snap, (visits, last)))
        until = snap.get("until")
        if until and not visits and not reported and _parse(until) <= now:
            reported = True
            if previous is not None or emit_existing:
                found.append(("not_opened", oid, snap, (until,)))
        kept[oid] = {"visits": visits, "last_viewed": last, "not_opened_reported": reported}
    items = [
        event_item(
            event,
            VENDOR,
            oid,
            snap.get("url"),
            observed_at,
            marks,
            name=snap.get("name"),
            publication_id=snap.get("publication"),
            visits=snap.get("visits"),
        )
        for event, oid, snap, marks in found
        if event in events
    ]
    return items, kept


def _parse(moment: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


class TrackedLinkEventTrigger(VendorEventTrigger["FlippingBookHook"]):
    """FlippingBook tracked-link events, from the account-wide link list.

    :param conn_id: the FlippingBook connection
    :param events: any of ``opened`` (visits grew or the last view moved) and ``not_opened`` (the
        not-opened-until date passed with no visit)
    :param poll_interval: seconds between polls
    :param emit_existing: on the first start, report links already opened or past their date
    :param filters: ``link_id``, ``publication_id`` (one id or a list) and ``title`` (substring)
    """

    allowed_events = LINK_EVENTS
    allowed_filters = ("link_id", "publication_id", "title")
    vendors = (VENDOR,)

    @override
    def listings(self, hook: FlippingBookHook) -> list[Listing]:
        return [hook.tracked_link_listing]

    @override
    def transitions(
        self, hook: FlippingBookHook, previous: Snapshots | None, rounds: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], Snapshots]:
        current = hook.watch_tracked_links(rounds[hook.tracked_link_listing.name])
        return link_transitions(
            previous,
            current,
            events=self.events,
            filters=self.filters,
            observed_at=utc_now_iso(),
            now=dt.datetime.now(dt.timezone.utc),
            emit_existing=self.emit_existing,
        )


__all__ = ["LINK_EVENTS", "TrackedLinkEventTrigger", "link_transitions"]
