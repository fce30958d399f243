"""Flipsnack's routes: the request checks in the documented order and one handler per action."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

from airflow_provider_flipbook.sandbox.core.emulator import Credential, VendorEmulator, token
from airflow_provider_flipbook.sandbox.core.limits import SlidingWindow
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.flipsnack.answers import MESSAGES, FlipsnackError, envelope, signature
from airflow_provider_flipbook.sandbox.flipsnack.state import MONTHLY_UPLOADS, FlipsnackState

LIMITS = (SlidingWindow(5, 1.0), SlidingWindow(60, 60.0))  # per key: codes 31 and 32


class FlipsnackEmulator(VendorEmulator[FlipsnackState]):
    """Flipsnack's API: ``action`` routes on the API host (GET) and the upload host (POST).

    The objects (:mod:`.state`) are held, not inherited.
    """

    name = "flipsnack"
    state_class = FlipsnackState
    credentials = (
        Credential("key", lambda: token("fsk").upper(), secret=False, in_urls=True),
        Credential("secret", lambda: token("fss").upper()),
    )

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": self.name,
            "host": self.public,
            "login": self.credential("key"),
            "password": self.credential("secret"),
            "extra": {"upload_host": f"{self.public}-upload", "pacing_speed": self.shared.speed},
        }

    def apps(self) -> dict[str, Any]:
        upload = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        self.upload_app_routes(upload)
        return {f"{self.name}-upload": upload, self.name: self.app}

    def error_body(self, status: int, code: str = "") -> tuple[bytes, str]:
        number = int(code) if code else 31 if status == 429 else 22
        return json.dumps({"code": number, "status": MESSAGES[number]}).encode(), "application/json"

    def check(self, params: dict[str, str], method: str, upload_host: bool) -> str:
        if not all(params.get(k) for k in ("apiKey", "signature", "action")):
            raise FlipsnackError(30)
        if params["apiKey"] != self.credential("key"):
            raise FlipsnackError(41)
        self.shared.signatures.add(params["signature"])
        if signature(self.credential("secret"), params) != params["signature"].lower():
            raise FlipsnackError(44)
        violated = self.shared.limits.check("flipsnack", params["apiKey"], LIMITS)
        if violated is not None:
            raise FlipsnackError(31 if violated == 0 else 32)
        action = params["action"]
        if action not in self.actions:
            raise FlipsnackError(42)
        if (self.actions[action].method == "POST") != (method == "POST" and upload_host):
            raise FlipsnackError(40)
        return action

    def routes(self) -> None:
        self.actions = {r.target: r for r in self.declared()}

        @self.app.get("/v1/")
        async def api(request: Request) -> Response:
            params = dict(request.query_params)
            try:
                action = self.check(params, "GET", upload_host=False)
                data = await self.actions[action].handler(params)
            except FlipsnackError as error:
                self.state.answered[error.code] += 1
                return error.response()
            self.state.answered[20] += 1
            return envelope(20, data)

        @self.app.post("/v1/")
        async def api_post(request: Request) -> Response:
            return envelope(40)

        @self.app.get("/_packages/{token}/{name}")
        async def package(token: str, name: str) -> Response:
            entry = self.state.packages.get(token)
            if entry is None or self.shared.now() > entry["expires"]:
                return Response(
                    '<?xml version="1.0"?><Error><Code>AccessDenied</Code>'
                    "<Message>Request has expired</Message></Error>",
                    403,
                    media_type="application/xml",
                )
            return FileResponse(entry["path"], media_type="application/zip", filename=name)

        @self.app.get("/viewer/{collection_hash}")
        async def viewer(collection_hash: str) -> Response:
            if collection_hash not in self.state.collections:
                return Response("<h1>Not found</h1>", 404, media_type="text/html")
            return Response(
                f"<h1>{self.state.collections[collection_hash]['title']}</h1>", media_type="text/html"
            )

    def upload_app_routes(self, app: FastAPI) -> None:
        @app.post("/v1/")
        async def upload(request: Request) -> Response:
            form = await request.form(max_files=2, max_fields=100)
            try:
                params = {k: v for k, v in form.items() if isinstance(v, str)}
                files = [v for k, v in form.multi_items() if k == "file" and not isinstance(v, str)]
                action = self.check(params, "POST", upload_host=True)
                if len(files) > 1:
                    raise FlipsnackError(36)
                return envelope(20, await self.actions[action].handler(params, files[0] if files else None))
            except FlipsnackError as error:
                return error.response()
            finally:
                await form.close()

        @app.get("/v1/")
        async def upload_get(request: Request) -> Response:
            return envelope(40)

    @route("POST", "collection.create")
    async def create(self, p: dict[str, str], upload: Any) -> dict[str, Any]:
        return self.state.view(await self.state.store_upload(p, upload))

    @route("GET", "user.getStats")
    async def user_stats(self, p: dict[str, str]) -> dict[str, Any]:
        return {
            "impressions": 2945,
            "views": 3719,
            "time_spent": 154,
            "downloads": 12,
            "api_uploads_left": MONTHLY_UPLOADS - self.state.uploads,
        }

    @route("GET", "collection.getList")
    async def get_list(self, p: dict[str, str]) -> dict[str, Any]:
        matches = [
            c
            for c in self.state.collections.values()
            if (not p.get("collectionStatus") or c["status"] == p["collectionStatus"])
            and self.state.matches_query(c, p.get("query") or "")
        ]
        if p.get("orderBy") == "name":
            matches.sort(key=lambda c: c["title"], reverse=p.get("orderMode") == "desc")
        start = int(p.get("from") or 0)
        end = int(p["to"]) + 1 if p.get("to") else start + int(p.get("count") or 20)
        if self.options["list_cap"]:  # a vendor answering fewer than asked, silently
            end = min(end, start + int(self.options["list_cap"]))
        listed = [self.state.view(c) for c in matches[start:end]]
        if not self.options["list_items"]:
            items_key = self.options["items_key"]
            listed = [{k: v for k, v in c.items() if k != items_key} for c in listed]
        answer: dict[str, Any] = {"collections": listed}
        if self.options["list_count"] != "absent":
            counted = len(matches) if self.options["list_count"] == "total" else len(answer["collections"])
            answer["collectionCount"] = counted
        return answer

    @route("GET", "collection.getCollection")
    async def get_collection(self, p: dict[str, str]) -> dict[str, Any]:
        return self.state.view(self.state.collection(p.get("collectionHash")))

    @route("GET", "collection.deleteCollection")
    async def delete_collection(self, p: dict[str, str]) -> None:
        del self.state.collections[self.state.collection(p.get("collectionHash"))["hash"]]

    @route("GET", "collection.getStats")
    async def collection_stats(self, p: dict[str, str]) -> dict[str, Any]:
        collection = self.state.collection(p.get("collectionHash"))
        seed = int(hashlib.sha256(collection["hash"].encode()).hexdigest()[:6], 16)
        stats: dict[str, Any] = {
            "impressions": 100 + seed % 900,
            "views": 50 + seed % 400,
            "time_spent": 30 + seed % 300,
            "likes": 0,
            "downloads": seed % 20,
        }
        if p.get("includePageStats") == "true":
            pages = sum(i["pages"] for i in collection["items"]) or 1
            stats["pages"] = [
                {
                    "page": n,
                    "time_spent": (seed >> n) % 90,
                    "clicks": (seed >> n) % 7,
                    "views": (seed >> n) % 60,
                }
                for n in range(1, pages + 1)
            ]
        return stats

    def converted(self, p: dict[str, str]) -> dict[str, Any]:
        """Return the collection named in the request, once no item is converting (else code 38)."""
        collection = self.state.collection(p.get("collectionHash"))
        if self.state.processing(collection):
            raise FlipsnackError(38)
        return collection

    @route("GET", "collection.update")
    async def update(self, p: dict[str, str]) -> dict[str, Any]:
        c = self.converted(p)
        for key, target in (("title", "title"), ("description", "description")):
            if p.get(key) is not None:
                c[target] = p[key]
        for key, target in (("collectionWidth", "width"), ("collectionHeight", "height")):
            if p.get(key):
                c[target] = int(p[key])
        status = p.get("collectionStatus")
        if status:
            if status not in ("public", "editable", "unlisted"):
                raise FlipsnackError(40)
            if c["status"] == "editable" and status != "editable":
                self.state.publish(c)
            c["status"] = status
        return self.state.view(c)

    @route("GET", "collection.getEmbed")
    async def get_embed(self, p: dict[str, str]) -> dict[str, Any]:
        collection = self.converted(p)
        width, height = p.get("width") or collection["width"], p.get("height") or collection["height"]
        return {
            "embedCode": f'<iframe src="{self.public}/viewer/{collection["hash"]}?page='
            f'{p.get("startPage", 1)}" width="{width}" height="{height}"></iframe>'
        }

    @route("GET", "collection.downloadHTML")
    async def download_html(self, p: dict[str, str]) -> dict[str, Any]:
        c = self.converted(p)
        if any(self.state.item_status(i) == "failed" for i in c["items"]):
            return {"status": "FAILED"}
        job = c.get("package")
        if job is None:
            c["package"] = job = {"started": self.shared.now(), "path": None}
        pages = sum(i["pages"] for i in c["items"])
        if self.shared.elapsed_real(job["started"]) < 3.0 + 0.05 * pages:
            return {"status": "PROCESSING"}
        if job["path"] is None:
            job["path"] = await asyncio.to_thread(self.state.build_package, c, pages)
        token = secrets.token_urlsafe(16)
        self.state.packages[token] = {
            "path": job["path"],
            "expires": self.shared.now() + self.shared.scaled(60.0),
        }
        return {"status": "COMPLETE", "resourceUrl": f"{self.public}/_packages/{token}/{c['hash']}.zip"}
