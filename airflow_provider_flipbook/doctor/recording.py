"""What an account answered, as plain JSON: ``flipbook-doctor --record FILE``.

Every answer the hook receives passes through :class:`ResponseLog` (a ``requests`` response hook).
A recording keeps, per vendor, one entry per method, path and status: the path with ids replaced by
``{id}`` (and a Papyrs subsite by ``{subsite}``), the names of the query parameters, the HTTP status,
and the answer's shape:

* JSON as a small JSON Schema: ``{"type": "object", "properties": {...}}``, arrays with ``items``
  (every item merged) and ``seen`` (the longest list seen), scalars by type;
* XML as ``{"tag", "attributes", "children", "text"}``, children merged by tag.

Values are left out, except enumerations (``state``, ``status``, ``code``... as listed below, and
only when they look like a word); ``--record-values`` keeps every value (personal data included, for
your own use). Never kept: credentials (no request body, header or query value is read; the whole
text is redacted again before it is written), hosts, ids, titles, names.

The sandbox replays a recording (``flipbook-sandbox --replay FILE``) from this JSON alone: it shares no
code with this module.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_flipbook.doctor.checks import RATE_HEADER

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook

FORMAT = "flipbook-doctor-recording"
VERSION = 1
# JSON keys and XML names whose values are enumerations (kept when they look like words, see ENUM_VALUE).
ENUM_KEYS = {
    "state",
    "status",
    "stage",
    "code",
    "success",
    "wellKnownError",
    "errorCode",
    "customDomainsEnabled",
    "classname",
    "format",
    "styleclass",
    "collectionStatus",
    "ProcessStatus",
}
XML_ENUM_ATTRIBUTES = {"category"}  # iPaper: category="True" marks a category row among papers
ENUM_VALUE = re.compile(r"^[A-Za-z_]{1,40}(, ?[A-Za-z_]{1,40})*$|^-?\d{1,6}$|^(true|false)$", re.IGNORECASE)
ID_SEGMENT = re.compile(
    r"^\d+$|^[0-9a-f]{8}(-?[0-9a-f]{4}){3}-?[0-9a-f]{12}$|^(?=.*\d)[A-Za-z0-9_-]{6,}$", re.IGNORECASE
)
MAX_VALUES = 12


def template(path: str) -> str:
    """Return a path with ids and the Papyrs subsite replaced: ``/api/v1/fbonline/publication/{id}``."""
    parts = []
    for segment in path.split("/"):
        if segment.startswith("@") and len(segment) > 1:
            parts.append("@{subsite}")
        elif ID_SEGMENT.match(segment) and not segment.lower().startswith("v1"):
            parts.append("{id}")
        else:
            parts.append(segment)
    return "/".join(parts)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def json_shape(value: Any, key: str = "", values: bool = False) -> dict[str, Any]:
    """Describe a JSON value's shape; enumeration values where ``key`` is one, every value if ``values``."""
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {str(k): json_shape(v, str(k), values) for k, v in value.items()},
        }
    if isinstance(value, list):
        items: dict[str, Any] | None = None
        for item in value:
            items = merge(items, json_shape(item, key, values))
        return {"type": "array", "seen": len(value), **({"items": items} if items else {})}
    shape: dict[str, Any] = {"type": _scalar(value)}
    if value is not None and (values or (key in ENUM_KEYS and ENUM_VALUE.match(str(value)))):
        shape["enum"] = [value]
    return shape


def xml_shape(element: Any, values: bool = False) -> dict[str, Any]:
    """Describe an XML element's shape: tag, attribute names (enumerations kept), children by tag, text."""
    shape: dict[str, Any] = {"tag": str(element.tag), "attributes": {}, "children": {}}
    for name, value in element.attrib.items():
        attribute: dict[str, Any] = {"type": "string"}
        if values or (name in XML_ENUM_ATTRIBUTES and ENUM_VALUE.match(value)):
            attribute["enum"] = [value]
        shape["attributes"][str(name)] = attribute
    for child in element:
        if isinstance(child.tag, str):
            tag = str(child.tag)
            shape["children"][tag] = merge(shape["children"].get(tag), xml_shape(child, values))
    content = (element.text or "").strip()
    if content and not len(element):
        text: dict[str, Any] = {"type": "string"}
        if values or (str(element.tag) in ENUM_KEYS and ENUM_VALUE.match(content)):
            text["enum"] = [content]
        shape["text"] = text
    return shape


def merge(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two shapes of the same place as one: keys, attributes and children united, enumerations joined."""
    if a is None or b is None:
        return a or b
    if "tag" in a or "tag" in b:
        if a.get("tag") != b.get("tag"):
            return a
        out = {**a, "attributes": dict(a.get("attributes", {})), "children": dict(a.get("children", {}))}
        for name, attribute in b.get("attributes", {}).items():
            out["attributes"][name] = merge(out["attributes"].get(name), attribute)
        for tag, child in b.get("children", {}).items():
            out["children"][tag] = merge(out["children"].get(tag), child)
        if "text" in a or "text" in b:
            out["text"] = merge(a.get("text"), b.get("text"))
        return out
    types = sorted({*_types(a), *_types(b)})
    out = {**a, **b, "type": types[0] if len(types) == 1 else types}
    if "properties" in a or "properties" in b:
        properties = dict(a.get("properties", {}))
        for name, shape in b.get("properties", {}).items():
            properties[name] = merge(properties.get(name), shape)
        out["properties"] = properties
    if "items" in a or "items" in b:
        out["items"] = merge(a.get("items"), b.get("items"))
    if "seen" in a or "seen" in b:
        out["seen"] = max(a.get("seen", 0), b.get("seen", 0))
    if "enum" in a or "enum" in b:
        joined = list(a.get("enum", []))
        joined += [v for v in b.get("enum", []) if v not in joined]
        out["enum"] = joined[:MAX_VALUES]
    return out


def _types(shape: dict[str, Any]) -> list[str]:
    kind = shape.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def answer_shape(response: requests.Response, values: bool = False) -> dict[str, Any]:
    """Describe an answer body's shape: JSON, XML (lxml, no entities, no network), or its content type."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if not response.content:
        return {"empty": True, "content_type": content_type}
    if "json" in content_type:
        try:
            return json_shape(response.json(), values=values)
        except ValueError:
            return {"unreadable": "json", "content_type": content_type}
    if "xml" in content_type:
        from airflow_provider_flipbook.utils.safe_xml import parse_xml

        try:
            return xml_shape(parse_xml(response.content), values)
        except ValueError:
            return {"unreadable": "xml", "content_type": content_type}
    return {"content_type": content_type}


class ResponseLog:
    """Every answer the hook receives: rate-limit headers, the last answer, and the recording's entries.

    :param hook: the vendor hook whose session is watched
    :param bases: URL prefixes (the hook's base URL, an upload host) cut from paths before recording
    :param values: keep every value in the recording, not only enumerations
    """

    def __init__(self, hook: FlipbookBaseHook, bases: list[str], *, values: bool = False) -> None:
        self.last: requests.Response | None = None
        self.rate_headers: dict[str, str] = {}
        self.entries: dict[tuple[str, str, str, int], dict[str, Any]] = {}
        self.observations: dict[str, Any] = {}
        self.values = values
        self._prefixes = sorted((urlsplit(b).path.rstrip("/") for b in bases), key=len, reverse=True)
        hook.session.hooks["response"].append(self._seen)

    def _seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = response
        self.rate_headers.update({k.lower(): v for k, v in response.headers.items() if RATE_HEADER.search(k)})
        if kwargs.get("stream"):
            return  # a streamed download: its body is not ours to read
        url = urlsplit(response.url)
        path = url.path
        for prefix in self._prefixes:
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :] or "/"
                break
        query = parse_qsl(url.query, keep_blank_values=True)
        action = next((v for k, v in query if k == "action"), "")  # Flipsnack's one path: the action names it
        key = (response.request.method or "GET", template(path), action, response.status_code)
        entry = self.entries.setdefault(
            key,
            {
                "method": key[0],
                "path": key[1],
                **({"action": action} if action else {}),
                "status": key[3],
                "params": [],
                "answers": 0,
            },
        )
        entry["params"] = sorted({*entry["params"], *(k for k, _ in query)})
        entry["answers"] += 1
        entry["shape"] = merge(entry.get("shape"), answer_shape(response, self.values))

    def last_json(self) -> Any:
        """Return the last answer's JSON body, or None if it had none."""
        try:
            return self.last.json() if self.last is not None else None
        except ValueError:
            return None

    def observe(self, assumption: str, value: Any) -> None:
        """Write down a behaviour a check saw that no single answer shows (``ipaper.page_ids``: kept)."""
        self.observations[assumption] = value

    def vendor_part(self) -> dict[str, Any]:
        """Return this connection's part of a recording."""
        return {"answers": list(self.entries.values()), "observations": dict(self.observations)}


def write_recording(
    path: str, parts: dict[str, dict[str, Any]], redact: Callable[[str], str], values: bool
) -> None:
    """Write the recording: every vendor's part, redacted once more as a whole.

    :param path: the file to write
    :param parts: the vendor's part of each connection, by connection type
    :param redact: every connection's redaction
    :param values: whether values were kept (said in the file)
    """
    from airflow_provider_flipbook import __version__

    document = {
        "format": FORMAT,
        "version": VERSION,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "recorded_by": f"flipbook-doctor {__version__}",
        "values": values,
        "vendors": parts,
    }
    text = redact(json.dumps(_redacted(document, redact), indent=1, sort_keys=True))
    with open(path, "w", encoding="utf-8") as file:
        file.write(text + "\n")


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    """Every string (keys too) redacted, before JSON encoding could escape a secret past a plain replace."""
    if isinstance(value, dict):
        return {redact(str(k)): _redacted(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, redact) for v in value]
    return redact(value) if isinstance(value, str) else value
