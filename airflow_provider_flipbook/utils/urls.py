"""URLs a user is shown (XCom, extra links, logs): absolute http(s) or nothing."""

from __future__ import annotations

from urllib.parse import urlsplit


def public_url(url: object) -> str | None:
    """Return ``url`` if it is an absolute http(s) URL with a host; otherwise None.

    A relative path would open on the Airflow UI's own host, as its 404 page.
    """
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else None


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, without any user or password: what an error may name."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "(no host)"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: leave it out rather than fail while reporting a failure
        port = ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else f"{host}{port}"
