"""FlippingBook Online emulator: ``/flippingbook/api/v1/...``.

Errors use the README's nested envelope ``{"success": false, "error": {"wellKnownError", "message"}}``
with HTTP 4xx/5xx (``ObjectNotFound`` as 404). Rate limit per key: a burst of 10, then 1/s. As the
vendor's README says, an excess request is delayed (by up to about one scaled second) rather than
rejected; beyond that, or always with ``rate_limit_mode="reject"``, it gets HTTP 429
``RateLimitExceeded`` (no Retry-After: the vendor documents none). Requests over 1 MB get 413
``InvalidData``.

Sources convert on the vendor's clock (scaled by ``--speed``): WaitAutoQueue 1 s, Queued 2 s,
Completed/Preview 2 s + 0.02 s per page (progress 0..1), Completed/L1 0.2 s per page (progress =
pages done), then CompletedAllStages. A file that is not a PDF, is encrypted, has more than 2000
pages or 500 MB, or has XFA forms ("does not contain XFA (forms)", the Source entity), ends in
CompletedWithErrors, and a failed first source deletes its publication.

Tracked links answer ``urlName`` and no full URL, as documented; a publication on a custom domain
(``custom_domains``) has its canonical URL on that domain. ``onNotOpenedUntil`` must be an ISO 8601
date-time string (the pages' description; their type column says boolean): anything else is 400
``InvalidData``.

Where the documents are silent, ``options`` (``POST /_sandbox/options``) pick the shape:
``created_source_errors`` says when a bad first source is reported: ``later`` (the default: the
source is accepted and ends CompletedWithErrors) or ``report`` (at once, in ``createdSource`` with
``success: false``, or as the error of ``POST .../source``); ``link_url`` (default false) adds a
full ``url`` to tracked links, as some accounts may see; ``progress_key`` names a source's progress
field: ``Progress`` (the default: so the source page writes it, against its own camelCase) or
``progress``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
import secrets
import time
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from airflow_provider_flipbook.exceptions import InvalidInputError
from airflow_provider_flipbook.sandbox.core.emulator import VendorEmulator
from airflow_provider_flipbook.sandbox.core.limits import TokenBucket
from airflow_provider_flipbook.sandbox.core.pdf import fetch_url
from airflow_provider_flipbook.sandbox.core.state import iso
from airflow_provider_flipbook.utils.pdf import inspect_pdf

MAX_PAGES, MAX_BYTES, MAX_REQUEST, MAX_KEYS = 2000, 500 * 1024 * 1024, 1_000_000, 10
API = "/api/v1"
FB = "/api/v1/fbonline"


class Failure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FlippingBookEmulator(VendorEmulator):
    name = "flippingbook"

    def reset(self) -> None:
        self.keys: list[str] = [self.shared.credentials.flippingbook_key]
        self.publications: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.folders = [{"id": "f-catalogues", "name": "Catalogues"}, {"id": "f-reports", "name": "Reports"}]
        self.custom_domains: list[str] = []
        self.options: dict[str, Any] = {
            "created_source_errors": "later",
            "link_url": False,
            "progress_key": "Progress",
        }

    def counts(self) -> dict[str, int]:
        live = [p for p in self.publications.values() if "Deleted" not in p["state"]]
        return {
            "publications": len(live),
            "sources": len(self.sources),
            "tracked_links": sum("Deleted" not in link["state"] for link in self.links.values()),
            "triggers": len(self.triggers) + len(self.webhooks),
            "api_keys": len(self.keys),
        }

    def error_body(self, status: int) -> tuple[bytes, str]:
        code = {429: "RateLimitExceeded", 200: "InternalError"}.get(status, "InternalError")
        return json.dumps(
            {"success": False, "error": {"wellKnownError": code, "message": "Injected fault"}}
        ).encode(), "application/json"

    @property
    def public(self) -> str:
        return f"{self.shared.base_url}/flippingbook"

    # -- plumbing --------------------------------------------------------------------------------

    @staticmethod
    def fail(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"success": False, "error": {"wellKnownError": code, "message": message}}, status)

    async def guard(self, request: Request) -> tuple[str, Any]:
        header = request.headers.get("authorization")
        if header is None:
            raise Failure(401, "NoAuthorizationHeader", "Authorization header is missing")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            raise Failure(401, "BadAuthorizationType", "Authorization type must be Bearer")
        if key.strip() not in self.keys:
            raise Failure(403, "InvalidApiKey", "Invalid API key")
        waited = 0.0
        while (
            violated := self.shared.limits.check("flippingbook", key, (TokenBucket(10, 1.0),))
        ) is not None:
            wait = self.shared.limits.retry_after("flippingbook", key, violated)
            if self.shared.rate_limit_mode != "delay" or waited + wait > self.shared.scaled(1.0):
                raise Failure(429, "RateLimitExceeded", "Too many requests")
            await asyncio.sleep(wait)  # the vendor delays excess requests by up to about a second
            waited += wait
        body: Any = None
        if request.method in ("POST", "PUT"):
            if int(request.headers.get("content-length") or 0) > MAX_REQUEST:
                raise Failure(413, "InvalidData", "Request exceeds the 1 MB limit; pass the PDF by url")
            raw = await request.body()
            if len(raw) > MAX_REQUEST:
                raise Failure(413, "InvalidData", "Request exceeds the 1 MB limit; pass the PDF by url")
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise Failure(400, "InvalidData", "Request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise Failure(400, "InvalidData", "Request body must be a JSON object")
        return key, body

    def handle(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Any:
            try:
                key, body = await self.guard(request)
                result = handler(request, body or {}, key, **request.path_params)
                if asyncio.iscoroutine(result):
                    result = await result
            except Failure as failure:
                return self.fail(failure.status, failure.code, failure.message)
            if isinstance(result, (JSONResponse, HTMLResponse)):
                return result
            return JSONResponse({"success": True, **result})

        return endpoint

    def routes(self) -> None:
        add = self.app.add_api_route
        table = [
            ("GET", f"{API}/auth/me", self.me),
            ("GET", f"{API}/auth/key", self.keys_list),
            ("POST", f"{API}/auth/key", self.keys_create),
            ("DELETE", f"{API}/auth/key", self.keys_revoke),
            ("GET", f"{FB}/publication", self.pub_list),
            ("POST", f"{FB}/publication", self.pub_create),
            ("GET", f"{FB}/publication/{{pid}}", self.pub_get),
            ("POST", f"{FB}/publication/{{pid}}", self.pub_update),
            ("DELETE", f"{FB}/publication/{{pid}}", self.pub_delete),
            ("POST", f"{FB}/publication/{{pid}}/customize", self.pub_customize),
            ("GET", f"{FB}/publication/{{pid}}/source", self.src_list),
            ("POST", f"{FB}/publication/{{pid}}/source", self.src_add),
            ("GET", f"{FB}/publication/{{pid}}/source/{{sid}}", self.src_get),
            ("GET", f"{FB}/tracked_links", self.link_list),
            ("POST", f"{FB}/tracked_links", self.link_create),
            ("GET", f"{FB}/tracked_links/{{lid}}", self.link_get),
            ("PUT", f"{FB}/tracked_links/{{lid}}", self.link_update),
            ("GET", f"{FB}/custom-domains", self.domains),
            ("GET", f"{FB}/folders", self.folder_list),
            ("POST", f"{FB}/triggers", self.trigger_save),
            ("POST", f"{FB}/triggers/{{tid}}", self.trigger_save),
            ("DELETE", f"{FB}/triggers/{{tid}}", self.trigger_delete),
            ("GET", f"{FB}/webhook", self.webhook_list),
            ("POST", f"{FB}/webhook", self.webhook_save),
            ("POST", f"{FB}/webhook/{{tid}}", self.webhook_save),
            ("DELETE", f"{FB}/webhook/{{tid}}", self.webhook_delete),
        ]
        for method, path, handler in table:
            add(path, self.handle(handler), methods=[method])
        self.app.add_api_route("/view/{hash_id}/", self.viewer, methods=["GET"])
        self.app.add_api_route("/link/{url_name}", self.follow_link, methods=["GET"])

        @self.app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
        async def not_found(rest: str) -> JSONResponse:
            return self.fail(404, "NotFound", f"No such endpoint: /{rest}")

    # -- account --------------------------------------------------------------------------------

    def me(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"id": 123456, "email": "owner@example.com"}

    def keys_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"keys": list(self.keys)}

    def keys_create(self, request: Request, body: dict[str, Any], key: str) -> dict:
        if len(self.keys) >= MAX_KEYS:
            raise Failure(400, "KeyLimitExceeded", "No more than 10 keys per account")
        new = f"fbk-{secrets.token_hex(12)}"
        self.keys.append(new)
        return {"key": new}

    def keys_revoke(self, request: Request, body: dict[str, Any], key: str) -> dict:
        self.keys.remove(key)
        return {}

    # -- publications ---------------------------------------------------------------------------

    def _pub(self, pid: str) -> dict[str, Any]:
        pub = self.publications.get(pid)
        if pub is not None:
            self.settle(pub)
        if pub is None or "Deleted" in pub["state"]:
            raise Failure(404, "ObjectNotFound", "Publication not found")
        return pub

    def pub_url(self, pub: dict[str, Any]) -> str:
        """The canonical URL: on the publication's custom domain, if it has one."""
        root = f"https://{pub['domain']}" if pub["domain"] in self.custom_domains else self.public
        return f"{root}/view/{pub['hashId']}/"

    def view(self, pub: dict[str, Any]) -> dict[str, Any]:
        self_href = f"{self.public}{FB}/publication/{pub['id']}"
        return {
            "id": pub["id"],
            "hashId": pub["hashId"],
            "name": pub["name"],
            "description": pub["description"],
            "links": [
                {"rel": "self", "type": "GET", "href": self_href},
                {"rel": "edit", "type": "POST", "href": self_href},
                {"rel": "delete", "type": "DELETE", "href": self_href},
                {"rel": "fbonline/sources", "type": "GET", "href": self_href + "/source"},
                {
                    "rel": "fbonline/tracked-links",
                    "type": "GET",
                    "href": f"{self.public}{FB}/tracked_links?publication-uid={pub['id']}",
                },
            ],
            "state": ", ".join(pub["state"]),
            "seoEnabled": False,
            "ownerHashId": "88120",
            "contentRoot": f"{self.public}/content/{pub['id']}/",
            "cover": f"{self.public}/content/{pub['id']}/cover.jpg",
            "canonicalLink": self.pub_url(pub),
            "totalPages": pub["totalPages"],
            "lastPdfName": pub["lastPdfName"],
            "domain": pub["domain"],
            "folder": pub["folder"],
            "customizationOptions": pub["customization"],
            "creationTime": iso(pub["created"]),
            "modificationTime": iso(pub["modified"]),
            "isDemoPublication": False,
        }

    def pub_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        q = request.query_params
        count, offset = _int(q.get("count"), 10, 1, 1000), _int(q.get("offset"), 0, 0, None)
        for pub in self.publications.values():
            self.settle(pub)
        matches = [
            p
            for p in self.publications.values()
            if "Deleted" not in p["state"]
            and (not q.get("query") or q["query"] in p["name"])
            and (not q.get("hashid") or q["hashid"] == p["hashId"])
            and (not q.get("url") or q["url"] == self.pub_url(p))
        ]
        return {
            "total": len(matches),
            "publications": [self.view(p) for p in matches[offset : offset + count]],
        }

    def pub_get(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        return {"publication": self.view(self._pub(pid))}

    async def pub_create(self, request: Request, body: dict[str, Any], key: str) -> dict:
        domain = body.get("domain")
        if self.custom_domains and domain not in self.custom_domains:
            raise Failure(400, "InvalidData", "The account has custom domains: set one of them as domain")
        now = time.time()
        pid = secrets.token_hex(16)
        pub = {
            "id": pid,
            "hashId": str(600_000_000 + self.shared.next_id()),
            "name": body.get("name") or "Untitled",
            "description": body.get("description") or "",
            "folder": body.get("folder"),
            "domain": domain or "online.flippingbook.com",
            "state": ["Empty"],
            "totalPages": 0,
            "lastPdfName": "",
            "created": now,
            "modified": now,
            "sources": [],
            "customization": {
                "password": "",
                "hardcoverEnabled": False,
                "companyLogoEnabled": False,
                "companyLogoUrl": "",
                "rtlEnabled": False,
                "theme": "gray",
            },
        }
        self.publications[pid] = pub
        return await self._respond_with_source(pub, body)

    async def pub_update(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        pub = self._pub(pid)
        for field_name in ("name", "description", "domain"):
            if body.get(field_name) is not None:
                pub[field_name] = body[field_name]
        if "folder" in body:
            pub["folder"] = body["folder"]
        pub["modified"] = time.time()
        return await self._respond_with_source(pub, body)

    async def _respond_with_source(self, pub: dict[str, Any], body: dict[str, Any]) -> dict:
        result = {
            "id": pub["id"],
            "hashId": pub["hashId"],
            "url": self.pub_url(pub),
            "links": self.view(pub)["links"],
            "lastModified": iso(pub["modified"]),
        }
        if body.get("url") or body.get("data"):
            source = await self.new_source(pub, body)
            if source["error"] and self.options["created_source_errors"] == "report":
                self.refuse_now(pub, source)
                result["createdSource"] = {
                    "success": False,
                    "wellKnownError": "InvalidData",
                    "message": f"Invalid source: {source['error']}",
                    "error": "InvalidSource",
                }
            else:
                result["createdSource"] = {
                    "success": True,
                    "id": source["id"],
                    "lastModified": iso(source["wall"]),
                }
        return result

    def refuse_now(self, pub: dict[str, Any], source: dict[str, Any]) -> None:
        """The ``report`` variant: the source is erroneous at once; an only source takes its publication along."""
        source["applied"] = True
        source["refused"] = True
        if source["first"] and "CompletedAllStages" not in pub["state"]:
            pub["state"] = ["Deleted"]

    def pub_delete(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        self._pub(pid)["state"] = ["Deleted"]
        return {}

    def pub_customize(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        pub = self._pub(pid)
        options = pub["customization"]
        if body.get("hardCover") is not None:
            options["hardcoverEnabled"] = bool(body["hardCover"])
        if body.get("enableRtl") is not None:
            options["rtlEnabled"] = bool(body["enableRtl"])
        if body.get("theme"):
            options["theme"] = body["theme"]
        if body.get("logoUrl"):
            options.update(companyLogoEnabled=True, companyLogoUrl=body["logoUrl"])
        mode = body.get("setPasswordProtection", "keep")
        if mode == "disable":
            options["password"] = ""
        elif mode == "manual":
            options["password"] = body.get("manualPassword") or ""
        elif mode in ("numeric", "auto"):
            length = int(body.get("generatePasswordLength") or 8)
            alphabet = "0123456789" if mode == "numeric" else "abcdefghjkmnpqrstuvwxyz23456789"
            options["password"] = "".join(secrets.choice(alphabet) for _ in range(length))
        return {"publication": self.view(pub)}

    # -- sources and conversion -------------------------------------------------------------------

    async def new_source(self, pub: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        path = self.shared.new_file(".pdf")
        error = None
        if body.get("data"):
            try:
                path.write_bytes(base64.b64decode(body["data"], validate=True))
            except (binascii.Error, ValueError):
                error = "data is not valid base64"
        else:
            error = await fetch_url(body["url"], path)
        pages = 0
        if error is None:
            try:
                with path.open("rb") as stream:
                    facts = inspect_pdf(stream, body.get("filename") or "document")
                if facts.encrypted:
                    error = "password-protected PDFs are not supported"
                elif facts.xfa:
                    error = "PDFs with XFA forms are not supported"
                elif facts.pages > MAX_PAGES or facts.size > MAX_BYTES:
                    error = f"over the limits ({facts.pages} pages, {facts.size} bytes)"
                pages = facts.pages
            except InvalidInputError as bad:
                error = str(bad)
        source = {
            "id": secrets.token_hex(16),
            "publicationId": pub["id"],
            "created": self.shared.now(),
            "wall": time.time(),
            "pages": pages,
            "error": error,
            "applied": False,
            "filename": body.get("filename") or (body.get("url") or "document.pdf").rsplit("/", 1)[-1],
            "first": not pub["sources"],
        }
        self.sources[source["id"]] = source
        pub["sources"].append(source["id"])
        return source

    def source_state(self, source: dict[str, Any]) -> tuple[str, str | None, Any]:
        if source.get("refused"):
            return "CompletedWithErrors", None, None
        t = self.shared.elapsed_real(source["created"])
        pages = max(source["pages"], 1)
        if t < 1.0:
            return "WaitAutoQueue", None, None
        if t < 3.0:
            return "Queued", None, None
        if source["error"]:
            return "CompletedWithErrors", None, None
        preview = 2.0 + 0.02 * pages
        if t < 3.0 + preview:
            return "Completed", "Preview", f"{(t - 3.0) / preview:.2f}"
        l1 = 0.2 * pages
        if t < 3.0 + preview + l1:
            return "Completed", "L1", str(int((t - 3.0 - preview) / 0.2))
        return "CompletedAllStages", None, None

    def settle(self, pub: dict[str, Any]) -> None:
        """Apply finished conversions to their publication (lazily, on every read)."""
        for sid in pub["sources"]:
            source = self.sources[sid]
            if source["applied"]:
                continue
            state = self.source_state(source)[0]
            if state == "CompletedAllStages":
                source["applied"] = True
                flags = [f for f in pub["state"] if f not in ("Empty",)]
                pub["state"] = [*dict.fromkeys([*flags, "HasContent", "Published", "CompletedAllStages"])]
                pub.update(totalPages=source["pages"], lastPdfName=source["filename"], modified=time.time())
            elif state == "CompletedWithErrors":
                source["applied"] = True
                if source["first"] and "CompletedAllStages" not in pub["state"]:
                    pub["state"] = ["Deleted"]

    def source_view(self, source: dict[str, Any]) -> dict[str, Any]:
        state, stage, progress = self.source_state(source)
        return {
            "id": source["id"],
            "publicationId": source["publicationId"],
            "state": state,
            "stage": stage,
            str(self.options["progress_key"]): progress,
            "links": [
                {
                    "rel": "self",
                    "type": "GET",
                    "href": f"{self.public}{FB}/publication/{source['publicationId']}/source/{source['id']}",
                }
            ],
        }

    def src_list(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        return {"sources": [self.source_view(self.sources[s]) for s in self._pub(pid)["sources"]]}

    def src_get(self, request: Request, body: dict[str, Any], key: str, pid: str, sid: str) -> dict:
        pub = self._pub(pid)
        if sid not in pub["sources"]:
            raise Failure(404, "ObjectNotFound", "Source not found")
        return {"source": self.source_view(self.sources[sid])}

    async def src_add(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        pub = self._pub(pid)
        if not (body.get("url") or body.get("data")):
            raise Failure(400, "InvalidData", "Either url or data is required")
        source = await self.new_source(pub, body)
        if source["error"] and self.options["created_source_errors"] == "report":
            self.refuse_now(pub, source)
            raise Failure(400, "InvalidData", f"Invalid source: {source['error']}")
        return {"id": source["id"]}

    # -- tracked links ------------------------------------------------------------------------------

    def link_view(self, link: dict[str, Any]) -> dict[str, Any]:
        pub = self.publications[link["publication"]]
        return {
            "id": link["id"],
            "title": link["title"],
            "state": ", ".join(link["state"]),
            "createdAt": iso(link["created"]),
            "urlName": link["urlName"],
            "triggerId": link["triggerId"],
            **({"url": f"{self.public}/link/{link['urlName']}"} if self.options["link_url"] else {}),
            "shortStats": {"fullStats": dict(link["stats"]), "sinceLastUpdate": dict(link["stats"])},
            "publication": {
                "id": {"id": pub["id"], "hashId": pub["hashId"]},
                "title": pub["name"],
                "url": self.pub_url(pub),
            },
            "triggers": link["triggers"],
        }

    def _links_response(self, links: list[dict[str, Any]], total: int | None = None) -> dict:
        user_total = sum("Deleted" not in link["state"] for link in self.links.values())
        return {
            "total": len(links) if total is None else total,
            "userTotal": user_total,
            "links": [self.link_view(link) for link in links],
        }

    def _resolve_pub(self, body: dict[str, Any]) -> dict[str, Any]:
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
        raise Failure(404, "ObjectNotFound", "Publication not found")

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
        return self._links_response(matches[offset : offset + count], total=len(matches))

    def _link(self, lid: str) -> dict[str, Any]:
        link = self.links.get(lid)
        if link is None or "Deleted" in link["state"]:
            raise Failure(404, "ObjectNotFound", "Tracked link not found")
        return link

    def link_get(self, request: Request, body: dict[str, Any], key: str, lid: str) -> dict:
        return self._links_response([self._link(lid)])

    def link_create(self, request: Request, body: dict[str, Any], key: str) -> dict:
        if not body.get("title"):
            raise Failure(400, "InvalidData", "title is required")
        pub = self._resolve_pub(body)
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
        return self._links_response([link])

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

    def link_update(self, request: Request, body: dict[str, Any], key: str, lid: str) -> dict:
        link = self._link(lid)
        if any(
            k in body
            for k in ("title", "notificationType", "onViewTrigger", "onDownload", "onNotOpenedUntil")
        ):
            self._apply_link_fields(link, body)
        new_state = body.get("newState")
        if new_state == "Disable":
            link["state"] = [s for s in link["state"] if s != "Active"] + ["Disabled"]
        elif new_state == "Enable":
            link["state"] = [s for s in link["state"] if s != "Disabled"] + ["Active"]
        elif new_state == "Delete":
            link["state"] = ["Deleted"]
        elif new_state not in (None, "None"):
            raise Failure(400, "InvalidData", f"Unknown newState {new_state!r}")
        return self._links_response([link]) if new_state != "Delete" else {"total": 0, "links": []}

    # -- domains, folders, triggers -----------------------------------------------------------------

    def domains(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"customDomainsEnabled": bool(self.custom_domains), "customDomains": list(self.custom_domains)}

    def folder_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"folders": list(self.folders)}

    def trigger_save(self, request: Request, body: dict[str, Any], key: str, tid: str | None = None) -> dict:
        trigger = body.get("trigger")
        if not isinstance(trigger, dict) or not trigger.get("endpoint") or not trigger.get("events"):
            raise Failure(400, "InvalidData", "trigger.endpoint and trigger.events are required")
        if tid is not None and tid not in self.triggers:
            raise Failure(404, "ObjectNotFound", "Trigger not found")
        tid = tid or f"tr_{secrets.token_hex(4)}"
        self.triggers[tid] = trigger
        return {"id": tid}

    def trigger_delete(self, request: Request, body: dict[str, Any], key: str, tid: str) -> dict:
        if self.triggers.pop(tid, None) is None:
            raise Failure(404, "ObjectNotFound", "Trigger not found")
        return {"id": tid}

    def webhook_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"webhooks": list(self.webhooks.values())}

    def webhook_save(self, request: Request, body: dict[str, Any], key: str, tid: str | None = None) -> dict:
        if not body.get("events"):
            raise Failure(400, "InvalidData", "events is required")
        tid = tid or f"wh_{secrets.token_hex(4)}"
        self.webhooks[tid] = {
            "name": body.get("name"),
            "endpoint": body.get("endpoint"),
            "events": body["events"],
        }
        return {"id": tid}

    def webhook_delete(self, request: Request, body: dict[str, Any], key: str, tid: str) -> dict:
        self.webhooks.pop(tid, None)
        return {"id": tid}

    # -- the public side: viewer and tracked-link redirects ---------------------------------------------

    async def viewer(self, hash_id: str) -> HTMLResponse:
        pub = next((p for p in self.publications.values() if p["hashId"] == hash_id), None)
        if pub is None or "Deleted" in pub["state"]:
            return HTMLResponse("<h1>Not found</h1>", 404)
        self.settle(pub)
        return HTMLResponse(
            f"<html><head><title>{_esc(pub['name'])}</title></head><body>"
            f"<h1>{_esc(pub['name'])}</h1><p>{pub['totalPages']} pages (sandbox viewer)</p></body></html>"
        )

    async def follow_link(self, url_name: str) -> Any:
        link = next((x for x in self.links.values() if x["urlName"] == url_name), None)
        if link is None or "Active" not in link["state"]:
            return HTMLResponse("<h1>Link not available</h1>", 404)
        link["stats"]["visits"] += 1
        link["stats"]["viewDuration"] += 30
        link["stats"]["lastViewedAt"] = iso(time.time())
        return RedirectResponse(f"{self.public}/view/{self.publications[link['publication']]['hashId']}/")


def _int(value: str | None, default: int, low: int, high: int | None) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        raise Failure(400, "InvalidData", f"not a number: {value!r}") from None
    number = max(number, low)
    return min(number, high) if high is not None else number


def _until(value: Any) -> str:
    """``onNotOpenedUntil``: an ISO 8601 date-time string, kept as the vendor echoes it in ``until``."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
            return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise Failure(400, "InvalidData", f"onNotOpenedUntil must be an ISO 8601 date/time, got {value!r}")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
