"""FlippingBook trigger calls into Airflow: a FastAPI app the API server mounts at ``/flipbook-webhooks``.

Each FlippingBook connection with the extra ``webhook_token`` (32+ random characters, e.g. from
``flipbook-webhooks token``) has one receiver at the capability URL::

    <API server>/flipbook-webhooks/flippingbook/<conn id>/<webhook_token>

FlippingBook signs nothing, so the unguessable token in the path is what authenticates a call
(Airflow does not authenticate plugin apps). A call is answered, in this order and with no side
effect before the last step:

* 404 for an unknown connection or a wrong token (the same answer, compared in constant time);
* 413 for a body over 64 KiB, 400 for a body that is not JSON;
* 200 ``{"duplicate": true}`` for an event already recorded (the vendor retries; replays);
* 422 when reading the object back through the API contradicts the event (e.g. ``created`` for a
  publication that does not exist), 503 when the API cannot be asked now (the vendor retries);
* 503 when the asset is not declared by any DAG; else the asset event is recorded: 200.

The payload is undocumented; every plausible shape is read (see :func:`read_call`): the event name in
the body (``event``, or ``EventData.Event`` of the 2019 pages) or in the ``X-FlippingBook-Event``
header; current and 2019 event names. A JSON body of no known shape is still recorded, as event
``unknown`` with a warning in the API server's log, rather than dropped.

Recorded as an asset event on the asset named by the extra ``webhook_asset`` (default
``flippingbook_webhooks.<conn id>``) with ``extra={"from_flipbook_webhook": true, "payload": ...}``;
the payload has the shape of the polling watchers' (:mod:`airflow_provider_flipbook.events`), with
``source: "webhook"`` and ``verified``. The event id is a hash of the event name and the exact body:
a retried or replayed call has the same id and is recorded once (checked against the asset's last
``DEDUP_WINDOW`` events under a lock on the asset's row).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from airflow_provider_flipbook._compat import mask_secret
from airflow_provider_flipbook.events import batch_payload, event_id, utc_now_iso
from airflow_provider_flipbook.hooks._flippingbook_webhooks import (
    MIN_TOKEN_LENGTH,
    WEBHOOK_URL_PREFIX,
    webhook_asset_name,
)

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
DEDUP_WINDOW = 1000
BATCH_WINDOW = 0.5  # seconds: calls for one asset arriving together travel as one asset event
VENDOR = "flippingbook"

#: Vendor event name (current or 2019) -> the provider's event name (as the watchers name them).
EVENT_NAMES = {
    "created": "converted",
    "PublicationCreatedCompleted": "converted",
    "PublicationCompleted": "converted",
    "updated": "updated",
    "PublicationUpdatedCompleted": "updated",
    "convertationFailed": "failed",
    "PublicationFailed": "failed",
    "deleted": "deleted",
    "PublicationDeleted": "deleted",
    "session": "session",
    "TrackedPublicationLink-session": "session",
    "notViewedUntil": "not_opened",
    "TrackedPublicationLink-notViewedUntil": "not_opened",
    "lead": "lead",
    "print": "print",
    "link": "link",
    "page": "page",
    "download": "download",
    "TrackedPublicationLink-download": "download",
}


@dataclass
class Call:
    """What one trigger call says, read from whichever shape it came in."""

    vendor_event: str | None
    event: str
    scope: str | None
    object_id: str | None
    publication_id: str | None
    info: dict[str, Any] = field(default_factory=dict)
    shape: str = "unknown"


def _lower_keys(value: Any) -> dict[str, Any]:
    return (
        {str(k)[:1].lower() + str(k)[1:]: v for k, v in value.items()} if isinstance(value, Mapping) else {}
    )


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def read_call(headers: Mapping[str, str], body: Any) -> Call:
    """Read a call in any plausible shape.

    ``flat`` (``{scope, objectId, event, additionalInfo}``), ``header`` (the name only in
    ``X-FlippingBook-Event``; link calls with ``id``/``linkId``) or ``envelope`` (the 2019
    ``{Trigger, EventData}``, any casing). Unknown: event ``unknown``.
    """
    header = _text({k.lower(): v for k, v in headers.items()}.get("x-flippingbook-event"))
    top = _lower_keys(body)
    shape = "flat"
    data = top
    if isinstance(top.get("eventData"), Mapping):
        data, shape = _lower_keys(top["eventData"]), "envelope"
    name = _text(data.get("event")) or header
    if shape == "flat" and not _text(data.get("event")) and header:
        shape = "header"
    info = _lower_keys(data.get("additionalInfo")) or {
        k: v for k, v in data.items() if k not in ("event", "scope", "objectId")
    }
    scope = _text(data.get("scope"))
    object_id = _text(data.get("objectId")) or _text(data.get("linkId")) or _text(data.get("id"))
    publication_id = _text(info.get("publicationId"))
    if name not in EVENT_NAMES:
        return Call(name, "unknown", scope, object_id, publication_id, info, "unknown")
    event = EVENT_NAMES[name]
    on_link = (scope or "").lower() == "trackedlink" or bool(data.get("linkId"))
    if event == "session" and on_link:
        event = "opened"  # a tracked link's open, as TrackedLinkEventTrigger names it
    if event in ("converted", "updated", "failed", "deleted") and not publication_id:
        publication_id = object_id
    return Call(name, event, scope, object_id, publication_id, info, shape)


@dataclass
class Verdict:
    """What reading the object back said: ``verified``, ``unverifiable`` or ``contradicted``."""

    status: str
    url: str | None = None
    detail: str = ""


def verify(hook: FlippingBookHook, call: Call) -> Verdict:
    """Read the event's object back through the API (blocking).

    A vendor error other than "not found" propagates: the caller answers 503 and the vendor retries.
    """
    from airflow_provider_flipbook.exceptions import NotFoundError
    from airflow_provider_flipbook.hooks.flippingbook import tracked_link_url

    if call.event in ("opened", "not_opened"):
        if not call.object_id:
            return Verdict("unverifiable", detail="no link id in the call")
        try:
            link = hook.get_tracked_link(call.object_id)
        except NotFoundError:
            return Verdict("contradicted", detail=f"no tracked link {call.object_id}")
        visits = ((link.get("shortStats") or {}).get("fullStats") or {}).get("visits") or 0
        if call.event == "opened" and not visits:
            return Verdict("contradicted", detail=f"tracked link {call.object_id} has no visits")
        return Verdict("verified", tracked_link_url(link))
    if call.event == "unknown" or not call.publication_id:
        return Verdict("unverifiable", detail="no publication id in the call")
    try:
        publication = hook.get_publication(call.publication_id)
    except NotFoundError:
        if call.event in ("deleted", "failed"):  # a failed only source deletes its publication
            return Verdict("verified", detail="the publication is gone")
        return Verdict("contradicted", detail=f"no publication {call.publication_id}")
    flags = {f.strip() for f in str(publication.get("state") or "").split(",")}
    url = publication.get("canonicalLink")
    if call.event == "deleted" and not flags & {"Deleted", "Trashed"}:
        return Verdict("contradicted", url, f"publication {call.publication_id} is not deleted")
    if call.event in ("converted", "updated") and "CompletedAllStages" not in flags:
        return Verdict("contradicted", url, f"publication {call.publication_id} has converted nothing")
    if call.event == "failed":
        states = [s.get("state") for s in hook.list_sources(call.publication_id)]
        if "CompletedWithErrors" not in states and "WaitManualQueue" not in states:
            return Verdict("contradicted", url, f"no failed source on publication {call.publication_id}")
    return Verdict("verified", url)


class AssetNotDeclared(LookupError):
    """The receiver's asset is in no DAG (Airflow records events only on known assets)."""


_record_lock = threading.Lock()  # one API server process; the asset row lock covers several


def _recorded_ids(session: Any, asset_id: int) -> set[str]:
    from airflow.models.asset import AssetEvent
    from sqlalchemy import select

    extras = session.scalars(
        select(AssetEvent.extra)
        .where(AssetEvent.asset_id == asset_id)
        .order_by(AssetEvent.id.desc())
        .limit(DEDUP_WINDOW)
    )
    found: set[str] = set()
    for extra in extras:
        payload = extra.get("payload") if isinstance(extra, Mapping) else None
        if isinstance(payload, Mapping):
            found.update(
                str(item.get("event_id")) for item in payload.get("events") or [] if isinstance(item, Mapping)
            )
    return found


def already_recorded(name: str, eid: str) -> bool:
    """Whether the asset's recent events hold this event id (raises :class:`AssetNotDeclared`)."""
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.name == name))
        if asset is None:
            raise AssetNotDeclared(name)
        return eid in _recorded_ids(session, asset.id)


def record(name: str, items: list[dict[str, Any]]) -> list[bool]:
    """Record the items not yet recorded (by event id) as one asset event.

    Return, per item, whether it was recorded (False: a duplicate).
    """
    from airflow.assets.manager import AssetManager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with _record_lock, create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.name == name).with_for_update())
        if asset is None:
            raise AssetNotDeclared(name)
        seen, fresh, recorded = _recorded_ids(session, asset.id), [], []
        for item in items:
            recorded.append(item["event_id"] not in seen)
            if recorded[-1]:
                seen.add(item["event_id"])
                fresh.append(item)
        if fresh:
            AssetManager().register_asset_change(
                asset=asset,
                extra={"from_flipbook_webhook": True, "payload": batch_payload(fresh)},
                session=session,
            )
    return recorded


class Batches:
    """Calls for one asset that arrive within ``BATCH_WINDOW`` seconds become one asset event.

    The vendor fires the events of one moment together, and Airflow gives asset events that arrive
    close together to one DAG run, dropping the later ones from it (measured with 3.3.2's
    scheduler): one asset event listing them is what lets each reach a run. Each call is answered
    once its batch is stored. Per API server worker process.
    """

    def __init__(self) -> None:
        self.pending: dict[str, tuple[list[dict[str, Any]], asyncio.Future[list[bool]]]] = {}

    async def record(self, name: str, item: dict[str, Any]) -> bool:
        loop = asyncio.get_running_loop()
        if name not in self.pending:
            self.pending[name] = ([], loop.create_future())
            loop.call_later(BATCH_WINDOW, lambda: loop.create_task(self._flush(name)))
        items, stored = self.pending[name]
        index = len(items)
        items.append(item)
        return (await asyncio.shield(stored))[index]

    async def _flush(self, name: str) -> None:
        items, stored = self.pending.pop(name)
        try:
            stored.set_result(await run_in_threadpool(record, name, items))
        except Exception as error:  # every call of the batch answers it (503 for an undeclared asset)
            stored.set_exception(error)


@dataclass
class Receiver:
    """One connection's receiver: its hook (to read objects back), token and asset."""

    conn_id: str
    token: str
    asset: str
    hook: FlippingBookHook


def find_receiver(conn_id: str) -> Receiver | None:
    """Find the receiver of a FlippingBook connection with a usable ``webhook_token``, else None."""
    from airflow_provider_flipbook.hooks import hook_for

    try:
        hook = cast("FlippingBookHook", hook_for(conn_id, vendors=(VENDOR,)))
        extras = hook.extras
    except Exception:  # unknown connection or another type: the same 404 as a wrong token
        return None
    token = str(extras.get("webhook_token") or "")
    if token:
        mask_secret(token)
    if len(token) < MIN_TOKEN_LENGTH:
        if token:
            log.warning(
                "Connection %r: webhook_token is under %s characters: receiver off", conn_id, MIN_TOKEN_LENGTH
            )
        return None
    return Receiver(conn_id, token, webhook_asset_name(conn_id, extras.get("webhook_asset")), hook)


def event_for(call: Call, verdict: Verdict, eid: str) -> dict[str, Any]:
    """Return the call as one item of the payload (:mod:`airflow_provider_flipbook.events`)."""
    return {
        "event": call.event,
        "vendor": VENDOR,
        "object_id": call.object_id or call.publication_id,
        "url": verdict.url,
        "observed_at": utc_now_iso(),
        "event_id": eid,
        "vendor_event": call.vendor_event,
        "publication_id": call.publication_id,
        "source": "webhook",
        "shape": call.shape,
        "verified": verdict.status == "verified",
        "info": call.info,
    }


def create_app() -> FastAPI:  # noqa: C901 - one small handler per route, defined inside
    from airflow_provider_flipbook.exceptions import VendorApiError

    app = FastAPI(title="FlippingBook webhooks", openapi_url=None, docs_url=None, redoc_url=None)
    batches = Batches()

    @app.post("/flippingbook/{conn_id}/{token}")
    async def receive(conn_id: str, token: str, request: Request) -> JSONResponse:
        # The API server's access log writes the request path after the answer, unmasked (its
        # structlog has no secrets masker): it reads this same scope, so the token leaves it here.
        request.scope["path"] = request.scope["path"].replace(token, "***")
        if isinstance(request.scope.get("raw_path"), bytes):
            request.scope["raw_path"] = request.scope["raw_path"].replace(token.encode(), b"***")
        receiver = await run_in_threadpool(find_receiver, conn_id)
        if receiver is None or not hmac.compare_digest(token.encode(), receiver.token.encode()):
            return JSONResponse({"detail": "Not Found"}, 404)  # a new one each time: middlewares alter it
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return JSONResponse({"detail": f"body over {MAX_BODY} bytes"}, 413)
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return JSONResponse({"detail": f"body over {MAX_BODY} bytes"}, 413)
        try:
            body = json.loads(raw)
        except ValueError:
            return JSONResponse({"detail": "the body is not JSON"}, 400)
        call = read_call(request.headers, body)
        eid = event_id(VENDOR, "webhook", call.vendor_event, json.dumps(body, sort_keys=True))
        try:
            if await run_in_threadpool(already_recorded, receiver.asset, eid):
                return JSONResponse({"duplicate": True, "event_id": eid})
            if call.event == "unknown":
                log.warning(
                    "FlippingBook webhook %s: unknown event %r (keys %s, header %r): recorded as 'unknown'",
                    conn_id,
                    call.vendor_event,
                    sorted(_lower_keys(body)) if isinstance(body, Mapping) else type(body).__name__,
                    request.headers.get("x-flippingbook-event"),
                )
                verdict = Verdict("unverifiable", detail="unknown shape")
            else:
                verdict = await run_in_threadpool(verify, receiver.hook, call)
            if verdict.status == "contradicted":
                log.warning(
                    "FlippingBook webhook %s: %s refused: %s", conn_id, call.vendor_event, verdict.detail
                )
                return JSONResponse({"detail": f"not confirmed by the API: {verdict.detail}"}, 422)
            recorded = await batches.record(receiver.asset, event_for(call, verdict, eid))
        except AssetNotDeclared as missing:
            log.error(
                "FlippingBook webhook %s: declare Asset(name=%r) in a DAG to receive events",
                conn_id,
                str(missing),
            )
            return JSONResponse({"detail": "the receiver's asset is not declared by any DAG"}, 503)
        except VendorApiError as error:
            return JSONResponse({"detail": f"FlippingBook could not be asked now: {error}"}, 503)
        return JSONResponse(
            {"recorded": recorded, "duplicate": not recorded, "event_id": eid, "event": call.event}
        )

    return app


class FlipbookWebhooksPlugin(AirflowPlugin):
    """Mounts the FlippingBook webhook receiver in the API server."""

    name = "flipbook_webhooks"
    fastapi_apps = [{"app": create_app(), "url_prefix": WEBHOOK_URL_PREFIX, "name": "FlippingBook webhooks"}]
