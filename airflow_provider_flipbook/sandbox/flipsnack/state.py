"""Flipsnack's objects.

Collections and their items (converting on the vendor clock), retired hashes, HTML packages, the
monthly upload count.
"""

from __future__ import annotations

import asyncio
import collections
import secrets
import shutil
import time
import zipfile
from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.sandbox.core.emulator import VendorState
from airflow_provider_flipbook.sandbox.core.pdf import UnreadablePdf, fetch_url, inspect_file
from airflow_provider_flipbook.sandbox.flipsnack.answers import FlipsnackError, collection_view

if TYPE_CHECKING:
    from pathlib import Path

MAX_PAGES, MAX_BYTES, MONTHLY_UPLOADS = 1000, 500 * 1024 * 1024, 1000


class FlipsnackState(VendorState):
    """Flipsnack's stored objects and their life cycle, held by the emulator (:mod:`.routes`)."""

    def reset(self) -> None:
        self.collections: dict[str, dict[str, Any]] = {}
        self.retired_hashes: set[str] = set()
        self.packages: dict[str, dict[str, Any]] = {}
        self.uploads = 0
        self.answered: collections.Counter[int] = collections.Counter()  # codes answered, for tests
        self.options: dict[str, Any] = {
            "items_key": "items",
            "conversion_seconds": 2.0,
            "extra_pages": 0,
            "list_query": "text",
            "list_cap": None,
            # collection.getList's collectionCount (seen in peer code only): the matches' count
            # ("total"), this answer's own ("range"), or left out ("absent")
            "list_count": "total",
            "list_items": True,  # getList's entries carry the items, as getCollection's answer does
        }

    def counts(self) -> dict[str, int]:
        return {
            "collections": len(self.collections),
            "items": sum(len(c["items"]) for c in self.collections.values()),
            "packages": sum(1 for c in self.collections.values() if c.get("package")),
        }

    def collection(self, collection_hash: str | None) -> dict[str, Any]:
        if not collection_hash:
            raise FlipsnackError(30)
        if collection_hash in self.retired_hashes:
            raise FlipsnackError(46)
        if collection_hash not in self.collections:
            raise FlipsnackError(43)
        return self.collections[collection_hash]

    def matches_query(self, collection: dict[str, Any], query: str) -> bool:
        """Match ``collection.getList``'s ``query`` as the option ``list_query`` plays it.

        The page is cut off before it says what it searches.
        """
        mode = self.options["list_query"]
        if not query or mode == "ignored":
            return True
        text = (
            collection["description"]
            if mode == "description"
            else collection["title"] + collection["description"]
        )
        return query.lower() in text.lower()

    def item_status(self, item: dict[str, Any]) -> str:
        if self.shared.elapsed_real(item["created"]) < float(self.options["conversion_seconds"]) + 0.1 * max(
            item["pages"], 1
        ):
            return "processing"
        return "failed" if item["error"] else "complete"

    def processing(self, collection: dict[str, Any]) -> bool:
        return any(self.item_status(i) == "processing" for i in collection["items"])

    def view(self, c: dict[str, Any]) -> dict[str, Any]:
        return collection_view(c, self.public, str(self.options["items_key"]), self.item_status)

    async def store_upload(self, p: dict[str, str], upload: Any) -> dict[str, Any]:
        """``collection.create``: store the PDF (posted or fetched by URL), one item converting."""
        if upload is None and not p.get("fileUrl"):
            raise FlipsnackError(30)
        if self.uploads >= MONTHLY_UPLOADS:
            raise FlipsnackError(33)
        path = self.shared.new_file(".pdf")
        if upload is not None:
            with path.open("wb") as out:
                await asyncio.to_thread(shutil.copyfileobj, upload.file, out, 1 << 20)
            filename = upload.filename or "document.pdf"
        else:
            if await fetch_url(p["fileUrl"], path):
                raise FlipsnackError(45)
            filename = p["fileUrl"].rsplit("/", 1)[-1]
        if path.stat().st_size > MAX_BYTES:
            raise FlipsnackError(34)
        error, pages = None, 0
        try:
            facts = await asyncio.to_thread(inspect_file, path, filename)
            pages = facts.pages + int(self.options["extra_pages"])
            if facts.encrypted:
                error = "encrypted"
            elif pages > MAX_PAGES:
                raise FlipsnackError(35)
        except UnreadablePdf:
            raise FlipsnackError(45) from None
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
                    "created": self.shared.now(),
                }
            ],
        }
        return self.collections[collection_hash]

    def publish(self, c: dict[str, Any]) -> None:
        """Publish an editable collection: its hash becomes final and the temporary one is retired."""
        self.retired_hashes.add(c["hash"])
        del self.collections[c["hash"]]
        c["hash"] = secrets.token_hex(4)
        self.collections[c["hash"]] = c

    def build_package(self, c: dict[str, Any], pages: int) -> Path:
        path = self.shared.new_file(".zip")
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
