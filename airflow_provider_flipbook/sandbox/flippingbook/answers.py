"""FlippingBook's answers.

The README's error envelope and the views of publications, sources and tracked links.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

from airflow_provider_flipbook.sandbox.core.errors import SuccessRaised, VendorError
from airflow_provider_flipbook.sandbox.core.state import iso

if TYPE_CHECKING:
    from airflow_provider_flipbook.sandbox.flippingbook.state import FlippingBookState

FB = "/api/v1/fbonline"


def error_envelope(code: str, message: str) -> dict[str, Any]:
    """Build the README's error envelope: ``{"success": false, "error": {"wellKnownError", "message"}}``."""
    return {"success": False, "error": {"wellKnownError": code, "message": message}}


class FlippingBookError(VendorError):
    """:func:`error_envelope` with an HTTP 4xx/5xx status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        if status < 400:
            raise SuccessRaised(status)
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse(error_envelope(self.code, self.message), self.status)


def publication_view(fb: FlippingBookState, pub: dict[str, Any]) -> dict[str, Any]:
    self_href = f"{fb.public}{FB}/publication/{pub['id']}"
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
                "href": f"{fb.public}{FB}/tracked_links?publication-uid={pub['id']}",
            },
        ],
        "state": ", ".join(pub["state"]),
        "seoEnabled": False,
        "ownerHashId": "88120",
        "contentRoot": f"{fb.public}/content/{pub['id']}/",
        "cover": f"{fb.public}/content/{pub['id']}/cover.jpg",
        "canonicalLink": fb.pub_url(pub),
        "totalPages": pub["totalPages"],
        "lastPdfName": pub["lastPdfName"],
        "domain": pub["domain"],
        "folder": pub["folder"],
        "customizationOptions": pub["customization"],
        "creationTime": iso(pub["created"]),
        "modificationTime": iso(pub["modified"]),
        "isDemoPublication": False,
    }


def source_view(fb: FlippingBookState, source: dict[str, Any]) -> dict[str, Any]:
    state, stage, progress = fb.source_state(source)
    return {
        "id": source["id"],
        "publicationId": source["publicationId"],
        "state": state,
        "stage": stage,
        str(fb.options["progress_key"]): progress,
        "links": [
            {
                "rel": "self",
                "type": "GET",
                "href": f"{fb.public}{FB}/publication/{source['publicationId']}/source/{source['id']}",
            }
        ],
    }


# -- tracked links ------------------------------------------------------------------------------
def link_view(fb: FlippingBookState, link: dict[str, Any]) -> dict[str, Any]:
    pub = fb.publications[link["publication"]]
    return {
        "id": link["id"],
        "title": link["title"],
        "state": ", ".join(link["state"]),
        "createdAt": iso(link["created"]),
        "urlName": link["urlName"],
        "triggerId": link["triggerId"],
        **({"url": f"{fb.public}/link/{link['urlName']}"} if fb.options["link_url"] else {}),
        "shortStats": {"fullStats": dict(link["stats"]), "sinceLastUpdate": dict(link["stats"])},
        "publication": {
            "id": {"id": pub["id"], "hashId": pub["hashId"]},
            "title": pub["name"],
            "url": fb.pub_url(pub),
        },
        "triggers": link["triggers"],
    }


def links_response(fb: FlippingBookState, links: list[dict[str, Any]], total: int | None = None) -> dict:
    user_total = sum("Deleted" not in link["state"] for link in fb.links.values())
    return {
        "total": len(links) if total is None else total,
        "userTotal": user_total,
        "links": [link_view(fb, link) for link in links],
    }
