"""FlippingBook's answers as the hook reads them and the values it writes.

The error shapes, the publication summary, tracked-link URLs, ISO 8601 dates and the 1 MB request
limit.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from airflow_provider_flipbook.exceptions import VendorApiError

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_flipbook.hooks.publishing import PublicationSummary

FB = "/api/v1/fbonline"  # the FlippingBook Online endpoints
REQUEST_LIMIT_BYTES = 1_000_000  # documented total request size
DEFAULT_LINK_PREFIX = "https://online.flippingbook.com/link/"


class HookPart:
    """Base of the hook's parts in sibling modules (tracked links, webhook triggers).

    It declares what they use of :class:`~airflow_provider_flipbook.hooks.flippingbook.FlippingBookHook`,
    which defines it and mixes them in.
    """

    if TYPE_CHECKING:
        conn_id: str
        vendor: ClassVar[str]
        call: Callable[..., dict[str, Any]]
        create_once: Callable[..., Any]
        setting: Callable[[str], Any]
        error: Callable[..., VendorApiError]
        _field: Callable[..., Any]


def error_fields(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from any documented FlippingBook error shape."""
    if not isinstance(body, dict):
        return None, ""
    lowered = {k[:1].lower() + k[1:]: v for k, v in body.items()}
    nested = lowered.get("error")
    if isinstance(nested, dict):
        inner = {k[:1].lower() + k[1:]: v for k, v in nested.items()}
        return _str(inner.get("wellKnownError") or inner.get("errorCode")), _str(inner.get("message"))
    errors = lowered.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        inner = {k[:1].lower() + k[1:]: v for k, v in errors[0].items()}
        return _str(inner.get("wellKnownError") or inner.get("errorCode")), _str(inner.get("message"))
    code = lowered.get("wellKnownError") or (nested if isinstance(nested, str) else None)
    return _str(code), _str(lowered.get("message"))


def _str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def inline_request_fits(pdf_size: int, overhead: int = 2_000) -> bool:
    """Whether base64 ``data`` plus the rest of the JSON body stays under the 1 MB request limit."""
    return 4 * ((pdf_size + 2) // 3) + overhead <= REQUEST_LIMIT_BYTES


def publication_summary(publication: dict[str, Any]) -> PublicationSummary:
    """Build the small JSON that goes to XCom: ids, URL and page count."""
    return {
        "publication_id": publication.get("id"),
        "hash_id": publication.get("hashId"),
        "name": publication.get("name"),
        "url": publication.get("canonicalLink") or publication.get("url"),
        "total_pages": publication.get("totalPages"),
        "state": publication.get("state"),
    }


def iso8601(value: str | dt.datetime) -> str:
    """Format a date-time as the tracked-link pages describe it (ISO 8601, UTC): ``2026-06-20T00:00:00Z``."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r} (e.g. 2026-06-20T09:00:00Z)") from None
    if not isinstance(value, dt.datetime):
        raise ValueError(f"expected an ISO 8601 date-time, got {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tracked_link_url(link: dict[str, Any]) -> str:
    """Return the link's full URL.

    The vendor's own ``url`` if it gives one; else ``urlName`` under the domain of the link's
    publication (its canonical ``publication.url``); else the documented default domain.
    """
    if link.get("url"):
        return str(link["url"])
    if not link.get("urlName"):
        raise VendorApiError(
            "FlippingBook", "tracked_link", f"the link has no 'urlName' (keys seen: {sorted(link)})"
        )
    canonical = str((link.get("publication") or {}).get("url") or "")
    parts = urlsplit(canonical)
    if parts.scheme in ("http", "https") and parts.netloc:
        root = (
            canonical.split("/view/", 1)[0] if "/view/" in parts.path else f"{parts.scheme}://{parts.netloc}"
        )
        return f"{root.rstrip('/')}/link/{link['urlName']}"
    return DEFAULT_LINK_PREFIX + str(link["urlName"])


def drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    """Keep the fields that have a value: a None is left out of the request body."""
    return {k: v for k, v in fields.items() if v is not None}
