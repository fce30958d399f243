"""FlippingBook's transport and its account, publication, source and folder routes.

The transport: bearer key, rate limit, body size, JSON.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from airflow_provider_flipbook.sandbox.core.emulator import Credential, VendorEmulator, token
from airflow_provider_flipbook.sandbox.core.limits import TokenBucket
from airflow_provider_flipbook.sandbox.core.routing import answered, route
from airflow_provider_flipbook.sandbox.core.state import iso
from airflow_provider_flipbook.sandbox.flippingbook.answers import (
    FlippingBookError,
    error_envelope,
    publication_view,
    source_view,
)
from airflow_provider_flipbook.sandbox.flippingbook.routes_links import LinkRoutes
from airflow_provider_flipbook.sandbox.flippingbook.routes_reader import ReaderRoutes
from airflow_provider_flipbook.sandbox.flippingbook.routes_triggers import TriggerRoutes
from airflow_provider_flipbook.sandbox.flippingbook.state import (
    API,
    FB,
    MAX_KEYS,
    MAX_REQUEST,
    FlippingBookState,
    paging,
)

LIMITS = (TokenBucket(10, 1.0),)  # per key: a burst of 10, then 1/s


class FlippingBookEmulator(VendorEmulator[FlippingBookState]):
    """FlippingBook Online's API at ``/flippingbook/api/v1/``, its viewer and tracked-link redirects.

    The transport and the account, publication, source and folder routes here; the tracked-link
    routes (:mod:`.routes_links`), the trigger routes (:mod:`.routes_triggers`), the reader's pages
    (:mod:`.routes_reader`) and the objects (:mod:`.state`) are held, not inherited.
    """

    name = "flippingbook"
    state_class = FlippingBookState
    route_groups = (LinkRoutes, TriggerRoutes)
    credentials = (Credential("key", lambda: token("fbk")),)

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": self.name,
            "host": self.public,
            "password": self.credential("key"),
            "extra": {"pacing_speed": self.shared.speed},
        }

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        return list(self.state.outbox.deliveries)

    def error_body(self, status: int, code: str = "") -> tuple[bytes, str]:
        code = code or {429: "RateLimitExceeded", 200: "InternalError"}.get(status, "InternalError")
        return json.dumps(error_envelope(code, "Injected fault")).encode(), "application/json"

    async def guard(self, request: Request) -> tuple[str, Any]:
        header = request.headers.get("authorization")
        if header is None:
            raise FlippingBookError(401, "NoAuthorizationHeader", "Authorization header is missing")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            raise FlippingBookError(401, "BadAuthorizationType", "Authorization type must be Bearer")
        if key.strip() not in self.state.keys:
            raise FlippingBookError(403, "InvalidApiKey", "Invalid API key")
        waited = 0.0
        while (violated := self.shared.limits.check("flippingbook", key, LIMITS)) is not None:
            wait = self.shared.limits.retry_after("flippingbook", key, violated)
            if self.shared.rate_limit_mode != "delay" or waited + wait > self.shared.scaled(1.0):
                raise FlippingBookError(429, "RateLimitExceeded", "Too many requests")
            await asyncio.sleep(wait)  # the vendor delays excess requests by up to about a second
            waited += wait
        body: Any = None
        if request.method in ("POST", "PUT"):
            if int(request.headers.get("content-length") or 0) > MAX_REQUEST:
                raise FlippingBookError(
                    413, "InvalidData", "Request exceeds the 1 MB limit; pass the PDF by url"
                )
            raw = await request.body()
            if len(raw) > MAX_REQUEST:
                raise FlippingBookError(
                    413, "InvalidData", "Request exceeds the 1 MB limit; pass the PDF by url"
                )
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise FlippingBookError(400, "InvalidData", "Request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise FlippingBookError(400, "InvalidData", "Request body must be a JSON object")
        return key, body

    def handle(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Any:
            try:
                key, body = await self.guard(request)
            except FlippingBookError as error:
                return error.response()
            result = await answered(handler, request, body or {}, key, **request.path_params)
            if isinstance(result, (JSONResponse, HTMLResponse)):
                return result
            return JSONResponse({"success": True, **result})

        return endpoint

    def routes(self) -> None:
        for declared in self.declared():
            self.app.add_api_route(declared.target, self.handle(declared.handler), methods=[declared.method])
        ReaderRoutes(self.state).mount(self.app)

        @self.app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
        async def not_found(rest: str) -> JSONResponse:
            return FlippingBookError(404, "NotFound", f"No such endpoint: /{rest}").response()

    @route("GET", f"{API}/auth/me")
    def me(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"id": 123456, "email": "owner@example.com"}

    @route("GET", f"{API}/auth/key")
    def keys_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"keys": list(self.state.keys)}

    @route("POST", f"{API}/auth/key")
    def keys_create(self, request: Request, body: dict[str, Any], key: str) -> dict:
        if len(self.state.keys) >= MAX_KEYS:
            raise FlippingBookError(400, "KeyLimitExceeded", "No more than 10 keys per account")
        new = f"fbk-{secrets.token_hex(12)}"
        self.state.keys.append(new)
        return {"key": new}

    @route("DELETE", f"{API}/auth/key")
    def keys_revoke(self, request: Request, body: dict[str, Any], key: str) -> dict:
        self.state.keys.remove(key)
        return {}

    @route("GET", f"{FB}/publication")
    def pub_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        q = request.query_params
        count, offset = paging(q)
        for pub in self.state.publications.values():
            self.state.apply_finished_sources(pub)
        matches = [
            p
            for p in self.state.publications.values()
            if "Deleted" not in p["state"]
            and (not q.get("query") or q["query"] in p["name"])
            and (not q.get("hashid") or q["hashid"] == p["hashId"])
            and (not q.get("url") or q["url"] == self.state.pub_url(p))
        ]
        order = self.state.options["list_order"]  # the page documents no order: see the module
        if order != "created":
            matches.sort(key=lambda p: p["modified" if order == "modified" else "created"], reverse=True)
        return {
            "total": len(matches),
            "publications": [publication_view(self.state, p) for p in matches[offset : offset + count]],
        }

    @route("GET", f"{FB}/publication/{{pid}}")
    def pub_get(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        return {"publication": publication_view(self.state, self.state.publication(pid))}

    @route("POST", f"{FB}/publication")
    async def pub_create(self, request: Request, body: dict[str, Any], key: str) -> dict:
        domain = body.get("domain")
        if self.state.custom_domains and domain not in self.state.custom_domains:
            raise FlippingBookError(
                400, "InvalidData", "The account has custom domains: set one of them as domain"
            )
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
        self.state.publications[pid] = pub
        return await self._respond_with_source(pub, body)

    @route("POST", f"{FB}/publication/{{pid}}")
    async def pub_update(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        pub = self.state.publication(pid)
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
            "url": self.state.pub_url(pub),
            "links": publication_view(self.state, pub)["links"],
            "lastModified": iso(pub["modified"]),
        }
        if body.get("url") or body.get("data"):
            source = await self.state.new_source(pub, body)
            if source["error"] and self.state.options["created_source_errors"] == "report":
                self.state.refuse_now(pub, source)
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

    @route("DELETE", f"{FB}/publication/{{pid}}")
    def pub_delete(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        self.state.publication(pid)["state"] = ["Deleted"]
        self.state.outbox.fire("deleted", "publication", pid, pid, {"publicationId": pid})
        return {}

    @route("POST", f"{FB}/publication/{{pid}}/customize")
    def pub_customize(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        pub = self.state.publication(pid)
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
        return {"publication": publication_view(self.state, pub)}

    @route("GET", f"{FB}/publication/{{pid}}/source")
    def src_list(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        return {
            "sources": [
                source_view(self.state, self.state.sources[s]) for s in self.state.publication(pid)["sources"]
            ]
        }

    @route("GET", f"{FB}/publication/{{pid}}/source/{{sid}}")
    def src_get(self, request: Request, body: dict[str, Any], key: str, pid: str, sid: str) -> dict:
        pub = self.state.publication(pid)
        if sid not in pub["sources"]:
            raise FlippingBookError(404, "ObjectNotFound", "Source not found")
        return {"source": source_view(self.state, self.state.sources[sid])}

    @route("POST", f"{FB}/publication/{{pid}}/source")
    async def src_add(self, request: Request, body: dict[str, Any], key: str, pid: str) -> dict:
        pub = self.state.publication(pid)
        if not (body.get("url") or body.get("data")):
            raise FlippingBookError(400, "InvalidData", "Either url or data is required")
        source = await self.state.new_source(pub, body)
        if source["error"] and self.state.options["created_source_errors"] == "report":
            self.state.refuse_now(pub, source)
            raise FlippingBookError(400, "InvalidData", f"Invalid source: {source['error']}")
        return {"id": source["id"]}

    @route("GET", f"{FB}/custom-domains")
    def domains(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {
            "customDomainsEnabled": bool(self.state.custom_domains),
            "customDomains": list(self.state.custom_domains),
        }

    @route("GET", f"{FB}/folders")
    def folder_list(self, request: Request, body: dict[str, Any], key: str) -> dict:
        return {"folders": list(self.state.folders)}
