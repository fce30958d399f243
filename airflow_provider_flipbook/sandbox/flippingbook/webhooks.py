"""FlippingBook's outgoing trigger calls: every trigger registered with the sandbox is fired as a POST.

What the vendor documents (README "Event Names", the trigger pages): account-wide triggers
(``POST /fbonline/triggers`` with ``limitTo: null``, or the legacy ``/fbonline/webhook``) and
triggers limited to a publication or a tracked link; events ``lead``, ``session`` (a tracked link's
first 10 opens), ``notViewedUntil``, ``print``, ``created`` (a publication's first source
converted), ``updated`` (a later one), ``deleted``, ``convertationFailed`` (sic) and ``link``; the
2019 names (``PublicationCreatedCompleted``...) fire as registered. "When it is called, trigger data
and fire context are POSTed to your hook."

What the documents leave open, played here as options (``POST /_sandbox/options``):

* ``webhook_shape``: ``flat`` (the default, as seen by an integration: ``{"scope", "objectId",
  "event", "additionalInfo"}`` and the event name in the ``X-FlippingBook-Event`` header too),
  ``header`` (the name only in the header; a link event carries ``id`` and ``linkId``) or
  ``envelope`` (the 2019 pages: ``{"Trigger": {...}, "EventData": {...}}``, PascalCase, no header).
* ``webhook_retries`` (default 4): a delivery answered with anything but 2xx, or not answered
  within ``webhook_timeout`` seconds (default 5), is sent again, the same bytes, after 1, 2, 4, 8...
  scaled seconds.

Nothing is signed (the vendor documents no signature). Deliveries run on the server's event loop;
``GET /_sandbox/webhooks`` lists them (the endpoint's last path segment masked: it is the
receiver's capability token).
"""

from __future__ import annotations

import asyncio
import calendar
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_flipbook.sandbox.core.state import iso

if TYPE_CHECKING:
    from airflow_provider_flipbook.sandbox.flippingbook.state import FlippingBookState

SHAPES = ("flat", "header", "envelope")
# The 2019 names a trigger may still be registered with, by the current event they stand for.
LEGACY_NAMES = {
    "created": ("PublicationCreatedCompleted", "PublicationCompleted"),
    "updated": ("PublicationUpdatedCompleted", "PublicationCompleted"),
    "convertationFailed": ("PublicationFailed",),
    "deleted": ("PublicationDeleted",),
    "session": ("TrackedPublicationLink-session",),
    "notViewedUntil": ("TrackedPublicationLink-notViewedUntil",),
}
SESSION_EVENTS_PER_LINK = 10  # "for tracked links, only the first 10 opens fire"
TICK = 0.1  # seconds between looks at conversions and not-opened-until dates


class WebhookOutbox:
    """Fires the registered triggers of one FlippingBook emulator and keeps every delivery."""

    def __init__(self, fb: FlippingBookState) -> None:
        self.fb = fb
        self.deliveries: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task] = set()
        self._ticker: asyncio.Task | None = None

    def reset(self) -> None:
        self.deliveries.clear()

    # -- what fires -----------------------------------------------------------------------------

    def fire(
        self, event: str, kind: str, object_id: str | None, publication_id: str, info: dict[str, Any]
    ) -> None:
        """One vendor event: ``kind`` is ``publication`` or ``trackedlink``; every matching trigger gets a POST."""
        link_id = object_id if kind == "trackedlink" else None
        for trigger_id, name, endpoint in self.matching(event, kind, publication_id, link_id):
            body, headers = self.payload(trigger_id, name, kind, object_id, info)
            self._deliver(trigger_id, name, endpoint, body, headers)

    def matching(
        self, event: str, kind: str, publication_id: str, link_id: str | None
    ) -> list[tuple[str, str, str]]:
        """``(trigger id, event name as registered, endpoint)`` of every trigger this event fires."""
        names = {event, *LEGACY_NAMES.get(event, ())}
        found = []
        for tid, trigger in self.fb.triggers.items():
            registered = [n for n in trigger.get("events") or [] if n in names]
            if not registered:
                continue
            scope = [str(s).lower() for s in _as_list(trigger.get("triggerOn"))]
            if scope and kind not in scope and not (kind == "trackedlink" and "publication" in scope):
                continue
            limit = trigger.get("limitTo") or {}
            parent, parent_id = str(limit.get("parentObject") or "").lower(), limit.get("parentObjectId")
            if parent == "publication" and parent_id != publication_id:
                continue
            if parent == "trackedlink" and parent_id != link_id:
                continue
            found.append((tid, registered[0], trigger["endpoint"]))
        for tid, hook in self.fb.webhooks.items():  # the legacy account-wide triggers
            registered = [n for n in hook.get("events") or [] if n in names]
            if registered and hook.get("endpoint"):
                found.append((tid, registered[0], hook["endpoint"]))
        return found

    def payload(
        self, trigger_id: str, name: str, kind: str, object_id: str | None, info: dict[str, Any]
    ) -> tuple[bytes, dict[str, str]]:
        shape = self.fb.options["webhook_shape"]
        scope = "trackedLink" if kind == "trackedlink" else "publication"
        headers = {"Content-Type": "application/json", "User-Agent": "FlippingBook-Webhooks (sandbox)"}
        if shape == "envelope":
            trigger = self.fb.triggers.get(trigger_id) or self.fb.webhooks.get(trigger_id) or {}
            body: dict[str, Any] = {
                "Trigger": {"Id": trigger_id, "Events": trigger.get("events"), "Endpoint": "(hidden)"},
                "EventData": {
                    "Event": name,
                    "Scope": scope,
                    "ObjectId": object_id,
                    **{k[:1].upper() + k[1:]: v for k, v in info.items()},
                },
            }
        else:
            headers["X-FlippingBook-Event"] = name
            body = {"scope": scope, "objectId": object_id, "additionalInfo": info}
            if shape == "flat":
                body["event"] = name
            elif kind == "trackedlink":
                body.update(id=object_id, linkId=object_id)
        return json.dumps(body).encode(), headers

    # -- delivery ---------------------------------------------------------------------------------

    def _deliver(self, trigger_id: str, name: str, endpoint: str, body: bytes, headers: dict) -> None:
        record = {
            "id": f"dl_{secrets.token_hex(6)}",
            "trigger": trigger_id,
            "event": name,
            "endpoint": _masked(endpoint),
            "body": json.loads(body),
            "attempts": [],
            "delivered": False,
        }
        self.deliveries.append(record)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the state read outside the server (a unit test): recorded, not sent
            return
        task = loop.create_task(self._send(record, endpoint, body, headers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, record: dict[str, Any], endpoint: str, body: bytes, headers: dict) -> None:
        retries = int(self.fb.options["webhook_retries"])
        async with httpx.AsyncClient(timeout=float(self.fb.options["webhook_timeout"])) as client:
            for attempt in range(retries + 1):
                if attempt:
                    await asyncio.sleep(self.fb.shared.scaled(2 ** (attempt - 1)))
                try:
                    answer = await client.post(endpoint, content=body, headers=headers)
                    record["attempts"].append({"at": iso(time.time()), "status": answer.status_code})
                    if 200 <= answer.status_code < 300:
                        record["delivered"] = True
                        return
                except httpx.HTTPError as error:
                    record["attempts"].append({"at": iso(time.time()), "error": type(error).__name__})

    # -- the vendor's clock: conversions end and not-opened dates pass without anyone asking ---------

    def start(self) -> None:
        """Start the clock on the running loop (once): called when a trigger is registered."""
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            for pub in list(self.fb.publications.values()):
                self.fb.apply_finished_sources(pub)
            now = time.time()
            for link in list(self.fb.links.values()):
                until = (link.get("triggers") or {}).get("onNotOpenedUntil") or {}
                if (
                    until.get("enabled")
                    and until.get("until")
                    and not link.get("not_viewed_fired")
                    and link["stats"]["visits"] == 0
                    and "Deleted" not in link["state"]
                    and _epoch(until["until"]) <= now
                ):
                    link["not_viewed_fired"] = True
                    self.fire(
                        "notViewedUntil",
                        "trackedlink",
                        link["id"],
                        link["publication"],
                        {"linkId": link["id"], "publicationId": link["publication"], "until": until["until"]},
                    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _masked(endpoint: str) -> str:
    head, _, last = endpoint.rstrip("/").rpartition("/")
    return f"{head}/{last[:4]}…" if head else endpoint


def _epoch(value: str) -> float:
    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
