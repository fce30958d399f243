"""What FlippingBook's readers do.

Open the viewer or a tracked link (views are counted), post the lead form, press Print. Each fires the
registered triggers (:mod:`.webhooks`).
"""

from __future__ import annotations

import html
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from airflow_provider_flipbook.sandbox.core.emulator import RouteGroup
from airflow_provider_flipbook.sandbox.core.state import iso
from airflow_provider_flipbook.sandbox.flippingbook.state import FlippingBookState
from airflow_provider_flipbook.sandbox.flippingbook.webhooks import SESSION_EVENTS_PER_LINK


class ReaderRoutes(RouteGroup[FlippingBookState]):
    """The pages a reader opens: viewer, tracked-link redirects, lead form and Print button.

    The viewer (``/view/{hashId}/``), tracked-link redirects (``/link/{urlName}``), the lead form
    (``POST /view/{hashId}/lead``, JSON or a posted form) and the Print button (``POST /view/{hashId}/print``).

    Pages a reader opens, outside the API: no key, no rate limit, no JSON envelope, so they are mounted
    (:meth:`mount`) rather than declared.
    """

    def mount(self, app: FastAPI) -> None:
        """Add the reader's pages to the emulator's app.

        :param app: the FlippingBook emulator's app
        """
        app.add_api_route("/view/{hash_id}/", self.viewer, methods=["GET"])
        app.add_api_route("/link/{url_name}", self.follow_link, methods=["GET"])
        app.add_api_route("/view/{hash_id}/lead", self.post_lead, methods=["POST"])
        app.add_api_route("/view/{hash_id}/print", self.print_clicked, methods=["POST"])

    async def viewer(self, hash_id: str) -> HTMLResponse:
        pub = self.state.viewed(hash_id)
        if pub is None:
            return HTMLResponse("<h1>Not found</h1>", 404)
        self.state.apply_finished_sources(pub)
        session = {"publicationId": pub["id"], "sessionId": secrets.token_hex(8)}
        self.state.outbox.fire("session", "publication", pub["id"], pub["id"], session)
        name = html.escape(pub["name"], quote=False)
        return HTMLResponse(
            f"<html><head><title>{name}</title></head><body>"
            f"<h1>{name}</h1><p>{pub['totalPages']} pages (sandbox viewer)</p></body></html>"
        )

    async def follow_link(self, url_name: str) -> Any:
        link = next((x for x in self.state.links.values() if x["urlName"] == url_name), None)
        if link is None or "Active" not in link["state"]:
            return HTMLResponse("<h1>Link not available</h1>", 404)
        link["stats"]["visits"] += 1
        link["stats"]["viewDuration"] += 30
        link["stats"]["lastViewedAt"] = iso(time.time())
        if link["stats"]["visits"] <= SESSION_EVENTS_PER_LINK:
            info = {
                "linkId": link["id"],
                "publicationId": link["publication"],
                "sessionId": secrets.token_hex(8),
                "visits": link["stats"]["visits"],
            }
            self.state.outbox.fire("session", "trackedlink", link["id"], link["publication"], info)
        return RedirectResponse(
            f"{self.state.public}/view/{self.state.publications[link['publication']]['hashId']}/"
        )

    async def post_lead(self, hash_id: str, request: Request) -> JSONResponse:
        """Take the viewer's lead form (a JSON object or a posted form): fires ``lead``."""
        pub = self.state.viewed(hash_id)
        if pub is None:
            return JSONResponse({"error": "not found"}, 404)
        raw = await request.body()
        try:
            fields = json.loads(raw) if raw.strip().startswith(b"{") else dict(parse_qsl(raw.decode()))
        except (ValueError, UnicodeDecodeError):
            fields = None
        if not isinstance(fields, dict) or not fields:
            return JSONResponse({"error": "the form is empty"}, 400)
        info = {  # the shape one integration observed (PascalCase inside ``data``)
            "uniqueKey": secrets.token_hex(8),
            "data": [{"Name": k, "Type": "text", "Value": str(v)} for k, v in fields.items()],
            "skipped": False,
            "publicationId": pub["id"],
            "infoType": "lead",
        }
        self.state.outbox.fire("lead", "publication", None, pub["id"], info)
        return JSONResponse({"ok": True})

    async def print_clicked(self, hash_id: str) -> JSONResponse:
        """Press the viewer's Print button: fires ``print``."""
        pub = self.state.viewed(hash_id)
        if pub is None:
            return JSONResponse({"error": "not found"}, 404)
        info = {"publicationId": pub["id"], "sessionId": secrets.token_hex(8)}
        self.state.outbox.fire("print", "publication", pub["id"], pub["id"], info)
        return JSONResponse({"ok": True})
