"""Vendor events as this provider hands them to DAGs.

One vocabulary for the polling watchers (:mod:`.triggers.watchers`) and the webhook receivers
(:mod:`.plugins`).

A DAG scheduled on a watched asset reads ``triggering_asset_events[asset][i].extra["payload"]``:

``{"events": [item, ...], "count": n, "vendor": ..., "observed_at": ..., "event_id": ...}``

and, when ``count`` is 1, the one item's keys at the top level too. Each item is small JSON:
``event``, ``vendor``, ``object_id``, ``url`` (public, or None), ``observed_at`` (ISO 8601 UTC) and
``event_id``, the same for the same transition however often it is seen (consumers de-duplicate on
it), plus a few vendor fields. The transitions seen together travel as one asset event: Airflow gives
two asset events that arrive close together to one DAG run and drops the second from it (measured with
3.3.2's scheduler), so one event per poll is what lets every transition reach exactly one run.

Pure functions only: no Airflow, no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

#: What a publication watcher can be asked for (each hook's ``publication_events`` says which its
#: listings tell).
PUBLICATION_EVENTS = ("converted", "failed", "deleted", "updated")


def utc_now_iso() -> str:
    """Now, in UTC, as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_id(*parts: Any) -> str:
    """Derive a stable id of one transition from what identifies it (vendor, object, event, version marks)."""
    text = json.dumps([str(p) if p is not None else None for p in parts], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def event_item(
    event: str,
    vendor: str,
    object_id: str | None,
    url: str | None,
    observed_at: str,
    marks: Sequence[Any],
    **fields: Any,
) -> dict[str, Any]:
    """One transition; ``marks`` are what makes it this transition (a version, a visit count...)."""
    return {
        "event": event,
        "vendor": vendor,
        "object_id": object_id,
        "url": url,
        "observed_at": observed_at,
        "event_id": event_id(vendor, object_id, event, *marks),
        **fields,
    }


def batch_payload(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Build the one asset event's payload for the transitions seen together (see the module docstring)."""
    if not items:
        raise ValueError("a batch needs at least one event")
    first = items[0]
    payload: dict[str, Any] = {
        "events": [dict(item) for item in items],
        "count": len(items),
        "vendor": first["vendor"],
        "observed_at": first["observed_at"],
    }
    if len(items) == 1:
        return {**dict(first), **payload}
    return {**payload, "event": "batch", "event_id": event_id(*(i["event_id"] for i in items))}


def payload_events(payload: Any) -> list[dict[str, Any]]:
    """Return the items of a payload this provider recorded (for DAG code): ``payload["events"]``, checked."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("events"), list):
        raise ValueError(f"not a flipbook event payload (keys seen: {sorted(payload or {})})")
    return [dict(item) for item in payload["events"]]
