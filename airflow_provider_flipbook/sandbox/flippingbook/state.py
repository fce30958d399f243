"""FlippingBook Online's objects and the lookups the routes share.

API keys, publications and their sources (converting on the vendor clock), tracked links, triggers,
webhooks, folders and custom domains.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.sandbox.core.emulator import VendorState
from airflow_provider_flipbook.sandbox.core.pdf import UnreadablePdf, fetch_url, inspect_file
from airflow_provider_flipbook.sandbox.flippingbook.answers import FlippingBookError
from airflow_provider_flipbook.sandbox.flippingbook.webhooks import WebhookOutbox

if TYPE_CHECKING:
    from starlette.datastructures import QueryParams

    from airflow_provider_flipbook.sandbox.core.state import SandboxState

MAX_PAGES, MAX_BYTES, MAX_REQUEST, MAX_KEYS = 2000, 500 * 1024 * 1024, 1_000_000, 10
API = "/api/v1"
FB = "/api/v1/fbonline"


class FlippingBookState(VendorState):
    """FlippingBook's stored objects and their life cycle.

    Held by the emulator (:mod:`.routes`) and its route groups; the registered triggers fire through
    :attr:`outbox`.
    """

    def __init__(self, shared: SandboxState, public: str) -> None:
        self.outbox = WebhookOutbox(self)
        super().__init__(shared, public)

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
            "webhook_shape": "flat",
            "webhook_retries": 4,
            "webhook_timeout": 5.0,
            "extra_pages": 0,
            "list_order": "created",
        }
        self.outbox.reset()

    def counts(self) -> dict[str, int]:
        live = [p for p in self.publications.values() if "Deleted" not in p["state"]]
        return {
            "publications": len(live),
            "sources": len(self.sources),
            "tracked_links": sum("Deleted" not in link["state"] for link in self.links.values()),
            "triggers": len(self.triggers) + len(self.webhooks),
            "api_keys": len(self.keys),
        }

    def publication(self, pid: str) -> dict[str, Any]:
        pub = self.publications.get(pid)
        if pub is not None:
            self.apply_finished_sources(pub)
        if pub is None or "Deleted" in pub["state"]:
            raise FlippingBookError(404, "ObjectNotFound", "Publication not found")
        return pub

    def resolve_publication(self, body: dict[str, Any]) -> dict[str, Any]:
        """Return the live publication a tracked-link body names (by uid, hash id or URL), else 404."""
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

    def viewed(self, hash_id: str) -> dict[str, Any] | None:
        """Return the live publication a reader opens by its hash id, if any."""
        pub = next((p for p in self.publications.values() if p["hashId"] == hash_id), None)
        return None if pub is None or "Deleted" in pub["state"] else pub

    def pub_url(self, pub: dict[str, Any]) -> str:
        """Return the canonical URL: on the publication's custom domain, if it has one."""
        root = f"https://{pub['domain']}" if pub["domain"] in self.custom_domains else self.public
        return f"{root}/view/{pub['hashId']}/"

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
                facts = inspect_file(path, body.get("filename") or "document")
                if facts.encrypted:
                    error = "password-protected PDFs are not supported"
                elif facts.xfa:
                    error = "PDFs with XFA forms are not supported"
                elif facts.pages > MAX_PAGES or facts.size > MAX_BYTES:
                    error = f"over the limits ({facts.pages} pages, {facts.size} bytes)"
                pages = facts.pages + int(self.options["extra_pages"])
            except UnreadablePdf as bad:
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

    def apply_finished_sources(self, pub: dict[str, Any]) -> None:
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
                event = "created" if source["first"] else "updated"
                info = {"publicationId": pub["id"], "sourceId": sid, "hashId": pub["hashId"]}
                self.outbox.fire(event, "publication", pub["id"], pub["id"], info)
            elif state == "CompletedWithErrors":
                source["applied"] = True
                if source["first"] and "CompletedAllStages" not in pub["state"]:
                    pub["state"] = ["Deleted"]
                info = {"publicationId": pub["id"], "sourceId": sid, "error": source["error"]}
                self.outbox.fire("convertationFailed", "publication", pub["id"], pub["id"], info)

    def refuse_now(self, pub: dict[str, Any], source: dict[str, Any]) -> None:
        """Refuse the source now (the ``report`` variant).

        The source is erroneous at once; an only source takes its publication along.
        """
        source["applied"] = True
        source["refused"] = True
        if source["first"] and "CompletedAllStages" not in pub["state"]:
            pub["state"] = ["Deleted"]
        info = {"publicationId": pub["id"], "sourceId": source["id"], "error": source["error"]}
        self.outbox.fire("convertationFailed", "publication", pub["id"], pub["id"], info)


def paging(query: QueryParams) -> tuple[int, int]:
    """Read a listing's ``count`` (1 to 1000, default 10) and ``offset`` (default 0) from its query."""
    return _int(query.get("count"), 10, 1, 1000), _int(query.get("offset"), 0, 0, None)


def _int(value: str | None, default: int, low: int, high: int | None) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        raise FlippingBookError(400, "InvalidData", f"not a number: {value!r}") from None
    number = max(number, low)
    return min(number, high) if high is not None else number
