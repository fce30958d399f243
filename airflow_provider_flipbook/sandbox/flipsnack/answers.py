"""Flipsnack's answers.

The documented status codes, the ``{"code", "status", "data"}`` envelope, the request signature (from
the vendor's page) and the collection view.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.responses import JSONResponse

from airflow_provider_flipbook.sandbox.core.errors import SuccessRaised, VendorError

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


def signature(secret: str, params: dict[str, str]) -> str:
    """Sign a request as developers.flipsnack.com/how-to-sign-a-request says.

    Sort the parameters by name, leaving out ``signature`` and ``file``; concatenate the secret, then
    each name followed by its value; MD5.
    """
    text = secret + "".join(
        name + params[name] for name in sorted(params) if name not in ("signature", "file")
    )
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - the vendor's scheme


def envelope(code: int, data: Any = None) -> JSONResponse:
    """Every Flipsnack answer: HTTP 200, the code and its status text, ``data`` on success."""
    body: dict[str, Any] = {"code": code, "status": MESSAGES.get(code, "Error")}
    if data is not None and code == 20:
        body["data"] = data
    return JSONResponse(body)


class FlipsnackError(VendorError):
    """A documented Flipsnack status code other than 20 (OK)."""

    def __init__(self, code: int) -> None:
        if code == 20:
            raise SuccessRaised(code)
        super().__init__(MESSAGES[code])
        self.code = code

    def response(self) -> JSONResponse:
        return envelope(self.code)


def collection_view(c: dict[str, Any], public: str, items_key: str, status_of: Any) -> dict[str, Any]:
    """Return a collection as ``getCollection`` answers it (``status_of`` gives each item's status)."""
    return {
        "collectionHash": c["hash"],
        "collectionTitle": c["title"],
        "collectionDescription": c["description"],
        "collectionStatus": c["status"],
        "collectionWidth": c["width"],
        "collectionHeight": c["height"],
        "thumbnailUrl": f"{public}/thumbs/{c['hash']}.jpg",
        "url": f"{public}/viewer/{c['hash']}",
        items_key: [
            {
                "flipbookHash": i["hash"],
                "title": i["title"],
                "status": status_of(i),
                "pages": i["pages"],
            }
            for i in c["items"]
        ],
    }
