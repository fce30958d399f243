"""Flipsnack emulator: ``/flipsnack/v1/`` (GET, signed query) and ``/flipsnack-upload/v1/``
(multipart POST for ``collection.create``).

Every answer is HTTP 200 with ``{"code", "status"[, "data"]}`` (the vendor documents no HTTP
error statuses). Checks, in order: mandatory parameters (30), API key (41), signature (44),
rate limits per key (31: 5/s, 32: 60/min), action (42), HTTP method (40).

Items convert in ``conversion_seconds`` (option, default 2 s) + 0.1 s per page (vendor clock,
scaled by ``--speed``) and end ``complete`` or ``failed`` (not a PDF, encrypted, over 1000 pages
or 500 MB). While an item converts, ``collection.update``, ``collection.getEmbed`` and
``collection.downloadHTML`` answer code 38 "Collection is in processing state" (api-status-codes). Publishing a collection
(``collectionStatus`` public/unlisted) replaces its temporary hash with a final one; the old hash
then answers 46. ``collection.downloadHTML`` answers PROCESSING for 3 s + 0.05 s per page, then
COMPLETE with a ``resourceUrl`` serving a real ZIP (index.html, one HTML page per PDF page, the
PDF) that expires after 60 s.

The signature is checked with this module's own code, written from the vendor's "How to sign a
request" page (not with the hook's). Where the documents are silent, ``options`` (``POST
/_sandbox/options``) pick the shape: ``items_key`` names the collection's item list in
getCollection answers (``items``, the default, or ``flipbooks``; the page is cut off before it).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import secrets
import shutil
import time
import zipfile
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse, Response

from airflow_provider_flipbook.exceptions import InvalidInputError
from airflow_provider_flipbook.sandbox.base import VendorEmulator, fetch_url
from airflow_provider_flipbook.sandbox.core import SlidingWindow
from airflow_provider_flipbook.utils.pdf import inspect_pdf

MESSAGES = {
    20: "OK",
    22: "Maintenance mode",
    30: "Missing mandatory parameter",
    31: "Requests per second limit exceeded",
    32: "Requests per minute limit exceeded",
    33: "Uploads per month exceeded",
    34: "File size too large",
    35: "Collection maximum pages number exceeded",
    36: "Multiple files upload not allowed",
    38: "Collection is in processing state",
    40: "Bad request",
    41: "Invalid credentials",
    42: "Invalid action",
    43: "Forbidden",
    44: "Invalid signature",
    45: "Invalid file format",
    46: "Invalid collection hash",
}
ACTIONS = {
    "collection.create",
    "collection.getCollection",
    "collection.update",
    "collection.deleteCollection",
    "collection.getEmbed",
    "collection.getStats",
    "collection.getList",
    "collection.downloadHTML",
    "user.getStats",
}
UPLOAD_ACTIONS = {"collection.create"}
MAX_PAGES, MAX_BYTES, MONTHLY_UPLOADS = 1000, 500 * 1024 * 1024, 1000


def signature(secret: str, params: dict[str, str]) -> str:
    """From developers.flipsnack.com/how-to-sign-a-request: sort the parameters by name, leaving out
    ``signature`` and ``file``; concatenate the secret, then each name followed by its value; MD5."""
    text = secret + "".join(
        name + params[name] for name in sorted(params) if name not in ("signature", "file")
    )
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - the vendor's scheme


class Code(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


def envelope(code: int, data: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "status": MESSAGES.get(code, "Error")}
    if data is not None and code == 20:
        body["data"] = data
    return JSONResponse(body)


class FlipsnackEmulator(VendorEmulator):
    name = "flipsnack"

    def reset(self) -> None:
        self.collections: dict[str, dict[str, Any]] = {}
        self.retired_hashes: set[str] = set()
        self.packages: dict[str, dict[str, Any]] = {}
        self.uploads = 0
        self.answered: collections.Counter[int] = collections.Counter()  # codes answered, for tests
        self.options: dict[str, Any] = {"items_key": "items", "conversion_seconds": 2.0}

    def counts(self) -> dict[str, int]:
        return {
            "collections": len(self.collections),
            "items": sum(len(c["items"]) for c in self.collections.values()),
            "packages": sum(1 for c in self.collections.values() if c.get("package")),
        }

    def error_body(self, status: int) -> tuple[bytes, str]:
        code = 31 if status == 429 else 22
        return json.dumps({"code": code, "status": MESSAGES[code]}).encode(), "application/json"

    @property
    def public(self) -> str:
        return f"{self.sb.base_url}/flipsnack"

    # -- request checks ---------------------------------------------------------------------------

    def check(self, params: dict[str, str], method: str, upload_host: bool) -> str:
        if not all(params.get(k) for k in ("apiKey", "signature", "action")):
            raise Code(30)
        if params["apiKey"] != self.sb.credentials.flipsnack_key:
            raise Code(41)
        self.sb.signatures.add(params["signature"])
        if signature(self.sb.credentials.flipsnack_secret, params) != params["signature"].lower():
            raise Code(44)
        violated = self.sb.rate_check(
            "flipsnack", params["apiKey"], (SlidingWindow(5, 1.0), SlidingWindow(60, 60.0))
        )
        if violated is not None:
            raise Code(31 if violated == 0 else 32)
        action = params["action"]
        if action not in ACTIONS:
            raise Code(42)
        if (action in UPLOAD_ACTIONS) != (method == "POST" and upload_host):
            raise Code(40)
        return action

    def routes(self) -> None:
        @self.app.get("/v1/")
        async def api(request: Request) -> Response:
            params = dict(request.query_params)
            try:
                action = self.check(params, "GET", upload_host=False)
                data = await self.dispatch(action, params)
            except Code as error:
                self.answered[error.code] += 1
                return envelope(error.code)
            self.answered[20] += 1
            return envelope(20, data)

        @self.app.post("/v1/")
        async def api_post(request: Request) -> Response:
            return envelope(40)

        @self.app.get("/_packages/{token}/{name}")
        async def package(token: str, name: str) -> Response:
            entry = self.packages.get(token)
            if entry is None or self.sb.now() > entry["expires"]:
                return Response(
                    '<?xml version="1.0"?><Error><Code>AccessDenied</Code>'
                    "<Message>Request has expired</Message></Error>",
                    403,
                    media_type="application/xml",
                )
            return FileResponse(entry["path"], media_type="application/zip", filename=name)

        @self.app.get("/viewer/{collection_hash}")
        async def viewer(collection_hash: str) -> Response:
            if collection_hash not in self.collections:
                return Response("<h1>Not found</h1>", 404, media_type="text/html")
            return Response(f"<h1>{self.collections[collection_hash]['title']}</h1>", media_type="text/html")

    def upload_app_routes(self, app) -> None:
        @app.post("/v1/")
        async def upload(request: Request) -> Response:
            form = await request.form(max_files=2, max_fields=100)
            try:
                params = {k: v for k, v in form.items() if isinstance(v, str)}
                files = [v for k, v in form.multi_items() if k == "file" and not isinstance(v, str)]
                self.check(params, "POST", upload_host=True)
                if len(files) > 1:
                    raise Code(36)
                return envelope(20, await self.create(params, files[0] if files else None))
            except Code as error:
                return envelope(error.code)
            finally:
                await form.close()

        @app.get("/v1/")
        async def upload_get(request: Request) -> Response:
            return envelope(40)

    # -- actions -------------------------------------------------------------------------------------

    async def dispatch(self, action: str, p: dict[str, str]) -> Any:
        if action == "user.getStats":
            return {
                "impressions": 2945,
                "views": 3719,
                "time_spent": 154,
                "downloads": 12,
                "api_uploads_left": MONTHLY_UPLOADS - self.uploads,
            }
        if action == "collection.getList":
            return self.get_list(p)
        collection = self.collection(p.get("collectionHash"))
        if action == "collection.getCollection":
            return self.view(collection)
        if action == "collection.deleteCollection":
            del self.collections[collection["hash"]]
            return None
        if action == "collection.getStats":
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
        if self.processing(collection):
            raise Code(38)
        if action == "collection.update":
            return self.update(collection, p)
        if action == "collection.getEmbed":
            width, height = p.get("width") or collection["width"], p.get("height") or collection["height"]
            return {
                "embedCode": f'<iframe src="{self.public}/viewer/{collection["hash"]}?page='
                f'{p.get("startPage", 1)}" width="{width}" height="{height}"></iframe>'
            }
        if action == "collection.downloadHTML":
            return await self.download_html(collection)
        raise Code(42)

    def collection(self, collection_hash: str | None) -> dict[str, Any]:
        if not collection_hash:
            raise Code(30)
        if collection_hash in self.retired_hashes:
            raise Code(46)
        if collection_hash not in self.collections:
            raise Code(43)
        return self.collections[collection_hash]

    def item_status(self, item: dict[str, Any]) -> str:
        if self.sb.elapsed_real(item["created"]) < float(self.options["conversion_seconds"]) + 0.1 * max(
            item["pages"], 1
        ):
            return "processing"
        return "failed" if item["error"] else "complete"

    def processing(self, collection: dict[str, Any]) -> bool:
        return any(self.item_status(i) == "processing" for i in collection["items"])

    def view(self, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "collectionHash": c["hash"],
            "collectionTitle": c["title"],
            "collectionDescription": c["description"],
            "collectionStatus": c["status"],
            "collectionWidth": c["width"],
            "collectionHeight": c["height"],
            "thumbnailUrl": f"{self.public}/thumbs/{c['hash']}.jpg",
            "url": f"{self.public}/viewer/{c['hash']}",
            str(self.options["items_key"]): [
                {
                    "flipbookHash": i["hash"],
                    "title": i["title"],
                    "status": self.item_status(i),
                    "pages": i["pages"],
                }
                for i in c["items"]
            ],
        }

    async def create(self, p: dict[str, str], upload: Any) -> dict[str, Any]:
        if upload is None and not p.get("fileUrl"):
            raise Code(30)
        if self.uploads >= MONTHLY_UPLOADS:
            raise Code(33)
        path = self.sb.new_file(".pdf")
        if upload is not None:
            with path.open("wb") as out:
                await asyncio.to_thread(shutil.copyfileobj, upload.file, out, 1 << 20)
            filename = upload.filename or "document.pdf"
        else:
            if await fetch_url(p["fileUrl"], path):
                raise Code(45)
            filename = p["fileUrl"].rsplit("/", 1)[-1]
        if path.stat().st_size > MAX_BYTES:
            raise Code(34)
        error, pages = None, 0
        try:
            with path.open("rb") as stream:
                facts = await asyncio.to_thread(inspect_pdf, stream, filename)
            pages = facts.pages
            if facts.encrypted:
                error = "encrypted"
            elif pages > MAX_PAGES:
                raise Code(35)
        except InvalidInputError:
            raise Code(45) from None
        self.uploads += 1
        collection_hash = secrets.token_hex(4)
        title = p.get("title") or filename.rsplit(".", 1)[0]
        self.collections[collection_hash] = {
            "hash": collection_hash,
            "title": title,
            "description": p.get("description") or "",
            "status": "editable",
            "width": int(p.get("collectionWidth") or 650),
            "height": int(p.get("collectionHeight") or 385),
            "path": path,
            "created": time.time(),
            "items": [
                {
                    "hash": secrets.token_hex(4),
                    "title": title,
                    "pages": pages,
                    "error": error,
                    "created": self.sb.now(),
                }
            ],
        }
        return self.view(self.collections[collection_hash])

    def update(self, c: dict[str, Any], p: dict[str, str]) -> dict[str, Any]:
        for key, target in (("title", "title"), ("description", "description")):
            if p.get(key) is not None:
                c[target] = p[key]
        for key, target in (("collectionWidth", "width"), ("collectionHeight", "height")):
            if p.get(key):
                c[target] = int(p[key])
        status = p.get("collectionStatus")
        if status:
            if status not in ("public", "editable", "unlisted"):
                raise Code(40)
            if c["status"] == "editable" and status != "editable":  # publishing: the hash becomes final
                self.retired_hashes.add(c["hash"])
                del self.collections[c["hash"]]
                c["hash"] = secrets.token_hex(4)
                self.collections[c["hash"]] = c
            c["status"] = status
        return self.view(c)

    def get_list(self, p: dict[str, str]) -> dict[str, Any]:
        matches = [
            c
            for c in self.collections.values()
            if (not p.get("collectionStatus") or c["status"] == p["collectionStatus"])
            and (not p.get("query") or p["query"].lower() in (c["title"] + c["description"]).lower())
        ]
        if p.get("orderBy") == "name":
            matches.sort(key=lambda c: c["title"], reverse=p.get("orderMode") == "desc")
        start = int(p.get("from") or 0)
        end = int(p["to"]) + 1 if p.get("to") else start + int(p.get("count") or 20)
        return {"collectionCount": len(matches), "collections": [self.view(c) for c in matches[start:end]]}

    async def download_html(self, c: dict[str, Any]) -> dict[str, Any]:
        if any(self.item_status(i) == "failed" for i in c["items"]):
            return {"status": "FAILED"}
        job = c.get("package")
        if job is None:
            c["package"] = job = {"started": self.sb.now(), "path": None}
        pages = sum(i["pages"] for i in c["items"])
        if self.sb.elapsed_real(job["started"]) < 3.0 + 0.05 * pages:
            return {"status": "PROCESSING"}
        if job["path"] is None:
            job["path"] = await asyncio.to_thread(self.build_package, c, pages)
        token = secrets.token_urlsafe(16)
        self.packages[token] = {"path": job["path"], "expires": self.sb.now() + self.sb.scaled(60.0)}
        return {"status": "COMPLETE", "resourceUrl": f"{self.public}/_packages/{token}/{c['hash']}.zip"}

    def build_package(self, c: dict[str, Any], pages: int):
        path = self.sb.new_file(".zip")
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(
                "index.html",
                f"<html><head><title>{c['title']}</title></head><body>"
                + "".join(f'<a href="pages/page-{n}.html">Page {n}</a>' for n in range(1, pages + 1))
                + "</body></html>",
                compress_type=zipfile.ZIP_DEFLATED,
            )
            for n in range(1, pages + 1):
                archive.writestr(
                    f"pages/page-{n}.html",
                    f"<html><body><h1>{c['title']}</h1><p>Page {n}</p></body></html>",
                    compress_type=zipfile.ZIP_DEFLATED,
                )
            archive.write(c["path"], "files/document.pdf", compress_type=zipfile.ZIP_STORED)
        return path
