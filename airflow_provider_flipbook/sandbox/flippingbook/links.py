"""FlippingBook's tracked-link routes (``/tracked_links``)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import Request

from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.flippingbook.answers import FlippingBookError, links_response
from airflow_provider_flipbook.sandbox.flippingbook.state import FB, FlippingBookState, _int, _until


class FlippingBookLinks(FlippingBookState):
    """Tracked links: a ``urlName`` per link, triggers on view, download or not opened until a date."""

    def resolve_publication(self, body: dict[str, Any]) -> dict[str, Any]:
        hash_id = body.get("publicationHashId") or body.get("publicationHashid")
        for pub in self.publications.values():
            if "Deleted" in pub["state"]:
                continue
            if (
                pub["id"] == body.get("publicationUid")
                or (hash_id and pub["hashId"] == str(hash_id))
                or (
                    body.get("publicationUrl")
                    and body["publicationUrl"].rstrip("/") == self.pub_url(pub).rstrip("/")
                )
            ):
                return pub
        raise FlippingBookError(404, "ObjectNotFound", "Publication not found")

    def tracked_link(self, lid: str) -> dict[str, Any]:
        link = self.links.get(lid)
        if link is None or "Deleted" in link["state"]:
            raise FlippingBookError(404, "ObjectNotFound", "Tracked link not found")
        return link

    def _apply_link_fields(self, link: dict[str, Any], body: dict[str, Any]) -> None:
        if body.get("title"):
            link["title"] = body["title"]
        until = body.get("onNotOpenedUntil")
        if until is not None:
            until = _until(until)
        link["triggers"] = {
            "onView": {
                "enabled": bool(body.get("onViewTrigger") or body.get("onViewTriggerSingle")),
                "amount": 10 if body.get("onViewTrigger") else 1,
            },
            "onDownload": {"enabled": bool(body.get("onDownload"))},
            "onNotOpenedUntil": {"enabled": bool(until), "until": until if isinstance(until, str) else None},
            "triggerVia": body.get("notificationType") or link["triggers"].get("triggerVia") or "Email",
        }

    @route("GET", f"{FB}/tracked_links")
    def link_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        q = request.query_params
        count, offset = _int(q.get("count"), 10, 1, 1000), _int(q.get("offset"), 0, 0, None)
        matches = [
            link
            for link in self.links.values()
            if "Deleted" not in link["state"]
            and (not q.get("title") or q["title"] in link["title"])
            and (not q.get("publication-uid") or q["publication-uid"] == link["publication"])
            and (
                not q.get("publication-hashid")
                or q["publication-hashid"] == self.publications[link["publication"]]["hashId"]
            )
        ]
        return links_response(self, matches[offset : offset + count], total=len(matches))

    @route("GET", f"{FB}/tracked_links/{{lid}}")
    def link_get(self, request: Request, body: dict[str, Any], key: str, lid: str) -> dict:
        return links_response(self, [self.tracked_link(lid)])

    @route("POST", f"{FB}/tracked_links")
    def link_create(self, request: Request, body: dict[str, Any], key: str) -> dict:
        if not body.get("title"):
            raise FlippingBookError(400, "InvalidData", "title is required")
        pub = self.resolve_publication(body)
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
        self._apply_link_fields(link, body)
        self.links[link["id"]] = link
        return links_response(self, [link])

    @route("PUT", f"{FB}/tracked_links/{{lid}}")
    def link_update(self, request: Request, body: dict[str, Any], key: str, lid: str) -> dict:
        link = self.tracked_link(lid)
        if any(
            k in body
            for k in ("title", "notificationType", "onViewTrigger", "onDownload", "onNotOpenedUntil")
        ):
            self._apply_link_fields(link, body)
        new_state = body.get("newState")
        if new_state == "Disable":
            link["state"] = [s for s in link["state"] if s != "Active"]  # the page lists no "Disabled"
        elif new_state == "Enable":
            link["state"] = [*[s for s in link["state"] if s != "Active"], "Active"]
        elif new_state == "Delete":
            link["state"] = ["Deleted"]
        elif new_state not in (None, "None"):
            raise FlippingBookError(400, "InvalidData", f"Unknown newState {new_state!r}")
        return links_response(self, [link]) if new_state != "Delete" else {"total": 0, "links": []}
