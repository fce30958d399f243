"""FlippingBook's tracked-link routes (``/tracked_links``)."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any

from fastapi import Request

from airflow_provider_flipbook.sandbox.core.emulator import RouteGroup
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.flippingbook.answers import FlippingBookError, links_response
from airflow_provider_flipbook.sandbox.flippingbook.state import FB, FlippingBookState, paging


class LinkRoutes(RouteGroup[FlippingBookState]):
    """Tracked links: a ``urlName`` per link, triggers on view, download or not opened until a date."""

    @route("GET", f"{FB}/tracked_links")
    def link_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        q = request.query_params
        count, offset = paging(q)
        matches = [
            link
            for link in self.state.links.values()
            if "Deleted" not in link["state"]
            and (not q.get("title") or q["title"] in link["title"])
            and (not q.get("publication-uid") or q["publication-uid"] == link["publication"])
            and (
                not q.get("publication-hashid")
                or q["publication-hashid"] == self.state.publications[link["publication"]]["hashId"]
            )
        ]
        return links_response(self.state, matches[offset : offset + count], total=len(matches))

    @route("GET", f"{FB}/tracked_links/{{lid}}")
    def link_get(self, request: Request, body: dict[str, Any], key: str, lid: str) -> dict:
        return links_response(self.state, [self.state.tracked_link(lid)])

    @route("POST", f"{FB}/tracked_links")
    def link_create(self, request: Request, body: dict[str, Any], key: str) -> dict:
        if not body.get("title"):
            raise FlippingBookError(400, "InvalidData", "title is required")
        pub = self.state.resolve_publication(body)
        link = {
            "id": f"tl_{secrets.token_hex(6)}",
            "title": body["title"],
            "publication": pub["id"],
            "state": ["Active", "WithoutNewData"],
            "created": time.time(),
            "urlName": secrets.token_urlsafe(6),
            "triggerId": f"tr_{secrets.token_hex(4)}",
            "stats": {"lastViewedAt": None, "viewDuration": 0, "visits": 0},
            "triggers": {},
        }
        apply_link_fields(link, body)
        self.state.links[link["id"]] = link
        return links_response(self.state, [link])

    @route("PUT", f"{FB}/tracked_links/{{lid}}")
    def link_update(self, request: Request, body: dict[str, Any], key: str, lid: str) -> dict:
        link = self.state.tracked_link(lid)
        if any(
            k in body
            for k in ("title", "notificationType", "onViewTrigger", "onDownload", "onNotOpenedUntil")
        ):
            apply_link_fields(link, body)
        new_state = body.get("newState")
        if new_state == "Disable":
            link["state"] = [s for s in link["state"] if s != "Active"]  # the page lists no "Disabled"
        elif new_state == "Enable":
            link["state"] = [*[s for s in link["state"] if s != "Active"], "Active"]
        elif new_state == "Delete":
            link["state"] = ["Deleted"]
        elif new_state not in (None, "None"):
            raise FlippingBookError(400, "InvalidData", f"Unknown newState {new_state!r}")
        return links_response(self.state, [link]) if new_state != "Delete" else {"total": 0, "links": []}


def apply_link_fields(link: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply a tracked link's title and triggers from a create or update body."""
    if body.get("title"):
        link["title"] = body["title"]
    until = body.get("onNotOpenedUntil")
    if until is not None:
        until = until_date(until)
    link["triggers"] = {
        "onView": {
            "enabled": bool(body.get("onViewTrigger") or body.get("onViewTriggerSingle")),
            "amount": 10 if body.get("onViewTrigger") else 1,
        },
        "onDownload": {"enabled": bool(body.get("onDownload"))},
        "onNotOpenedUntil": {"enabled": bool(until), "until": until if isinstance(until, str) else None},
        "triggerVia": body.get("notificationType") or link["triggers"].get("triggerVia") or "Email",
    }


def until_date(value: Any) -> str:
    """``onNotOpenedUntil``: an ISO 8601 date-time string, kept as the vendor echoes it in ``until``."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
            return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise FlippingBookError(
        400, "InvalidData", f"onNotOpenedUntil must be an ISO 8601 date/time, got {value!r}"
    )
