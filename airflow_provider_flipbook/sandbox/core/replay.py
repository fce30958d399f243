"""Replaying a recording of a real account (``flipbook-doctor --record FILE``) as a sandbox variant.

A recording is plain JSON, read here on its own terms (the sandbox imports nothing of the doctor):
``{"format": "flipbook-doctor-recording", "version": 1, "vendors": {<name>: {"answers": [...],
"observations": {...}}}}``; each answer is ``{"method", "path" (ids as {id}), "action"?, "status",
"params", "shape"}``, a JSON shape being ``{"type", "properties"?, "items"?, "enum"?}`` and an XML shape
``{"tag", "attributes", "children", "text"?}``.

Each vendor package reads its part in its own ``replay.py`` (``options_from(part) -> (options,
notes)``): which of its documented-silent variants the account plays, from the recorded shapes (a
source's progress key, the item list's key, a job GUID in ProcessPDF's answer...) and from the few
behaviours the doctor observed (a rerun's page ids). Those options are set, and kept across
``/_sandbox/reset``; the notes say what the recording showed that the sandbox cannot play. And
:class:`RecordedShapes` takes from the answers to the recorded requests the keys (JSON) and attributes
(XML) the account never sent.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator

    from airflow_provider_flipbook.sandbox.core.state import SandboxState

READ_METHOD = re.compile(r"/(Get|Search)\w*$")  # form-posted reads, named so by their vendor (iPaper)
FORMAT = "flipbook-doctor-recording"
VERSIONS = {1}


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a recording from a file; ``ValueError`` naming what is wrong with it.

    :param path: the file ``flipbook-doctor --record`` wrote
    """
    try:
        return check_recording(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot replay {path}: {error}") from None


def check_recording(recording: Any) -> dict[str, Any]:
    """Return the recording itself if it is one this sandbox reads; ``ValueError`` naming what is wrong.

    :param recording: a recording's parsed JSON
    """
    if not isinstance(recording, dict) or recording.get("format") != FORMAT:
        raise ValueError(f"not a flipbook-doctor recording (no format {FORMAT!r})")
    if recording.get("version") not in VERSIONS:
        raise ValueError(
            f"recording version {recording.get('version')!r}; this sandbox reads {sorted(VERSIONS)}"
        )
    if not isinstance(recording.get("vendors"), dict):
        raise ValueError("the recording has no 'vendors'")
    return recording


def replay(state: SandboxState, recording: dict[str, Any]) -> list[str]:
    """Set each recorded vendor's variant options (kept across resets); returns what cannot be played.

    :param state: the running sandbox's state, its emulators mounted
    :param recording: as :func:`load` returns it
    """
    notes: list[str] = []
    for name, part in recording["vendors"].items():
        emulator = state.vendors.get(name)
        if emulator is None:
            notes.append(f"{name}: not a vendor this sandbox emulates; ignored")
            continue
        package = type(emulator).__module__.rsplit(".", 1)[0]
        options, said = importlib.import_module(f"{package}.replay").options_from(part)
        state.set_options(name, options)
        state.replayed[name] = dict(options)
        state.replayed_answers[name] = keep_recorded(part)
        notes += [f"{name}: {note}" for note in said]
    return notes


def answers(part: dict[str, Any], method: str, path: str, action: str = "") -> Iterator[dict[str, Any]]:
    """Return the recorded answers of one request: ``path`` is a regular expression over the recorded path.

    :param part: one vendor's part of a recording
    :param method: the HTTP method
    :param path: a regular expression matched against the whole recorded path
    :param action: the Flipsnack ``action`` (other vendors: empty)
    """
    for answer in part.get("answers", []):
        if (
            answer.get("method") == method
            and re.fullmatch(path, str(answer.get("path", "")))
            and answer.get("action", "") == action
            and isinstance(answer.get("shape"), dict)
        ):
            yield answer


def at(shape: dict[str, Any] | None, *keys: str) -> dict[str, Any] | None:
    """Return the shape under ``keys``: object properties, stepping into a list's items where one is met."""
    for key in keys:
        shape = item(shape)
        if shape is None:
            return None
        shape = (shape.get("properties") or {}).get(key)
    return shape


def item(shape: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the shape of a list's items, or the shape itself when it is not a list."""
    if shape is not None and (shape.get("type") == "array" or "array" in shape.get("type", [])):
        return shape.get("items")
    return shape


def child(shape: dict[str, Any] | None, *tags: str) -> dict[str, Any] | None:
    """Return the XML shape under ``tags`` (children by tag)."""
    for tag in tags:
        if shape is None:
            return None
        shape = (shape.get("children") or {}).get(tag)
    return shape


def keep_recorded(part: dict[str, Any]) -> list[tuple[str, re.Pattern[str], str, int, dict[str, Any]]]:
    """Return the recorded answers as ``(method, path pattern, action, status, shape)``.

    For :class:`RecordedShapes`.

    :param part: one vendor's part of a recording
    """
    kept = []
    for answer in part.get("answers", []):
        if not isinstance(answer.get("shape"), dict) or not isinstance(answer.get("path"), str):
            continue
        if not (answer.get("method") == "GET" or READ_METHOD.search(answer["path"])):
            continue  # a write's answer depends on what was sent: one sample does not show its shape
        pattern = re.escape(answer["path"]).replace(r"\{id\}", "[^/]+").replace(r"\{subsite\}", "[^/]+")
        kept.append(
            (
                str(answer.get("method")),
                re.compile(pattern),
                answer.get("action", ""),
                answer.get("status"),
                answer["shape"],
            )
        )
    return kept


def prune_json(value: Any, shape: dict[str, Any] | None) -> Any:
    """``value`` without the object keys the recorded ``shape`` never showed (values are kept as they are)."""
    if shape is None:
        return value
    if isinstance(value, dict) and "properties" in shape:
        properties = shape["properties"]
        return {k: prune_json(v, properties[k]) for k, v in value.items() if k in properties}
    if isinstance(value, list) and shape.get("items") is not None:
        return [prune_json(v, shape["items"]) for v in value]
    return value


def prune_xml(element: Any, shape: dict[str, Any] | None) -> None:
    """Drop, in place, the attributes the recorded element ``shape`` never showed, down the tree."""
    if shape is None or shape.get("tag") != element.tag:
        return
    recorded = shape.get("attributes") or {}
    for name in [n for n in element.attrib if n not in recorded]:
        del element.attrib[name]
    for child_element in element:
        if isinstance(child_element.tag, str):
            prune_xml(child_element, (shape.get("children") or {}).get(child_element.tag))


class RecordedShapes:
    """ASGI middleware that gives the hooks the account's own shapes while a recording is replayed.

    An answer to a read the recording holds loses the keys (JSON) and attributes (XML) the account never
    sent there, so the hooks meet the account's own shapes. Writes, and reads the recording does not
    hold, pass through untouched.

    :param app: the sandbox's app
    :param state: its state (:attr:`~..state.SandboxState.replayed_answers`)
    """

    def __init__(self, app: Any, state: SandboxState) -> None:
        self.app, self.shared = app, state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        recorded = self._recorded(scope) if scope["type"] == "http" else []
        if not recorded:
            return await self.app(scope, receive, send)
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffered(message: dict) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
                return None
            if message["type"] != "http.response.body":
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return None
            body = self._pruned(started, b"".join(chunks), recorded)
            headers = [(k, v) for k, v in started.get("headers", []) if k.lower() != b"content-length"]
            await send({**started, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return None

        await self.app(scope, receive, buffered)
        return None

    def _recorded(self, scope: dict) -> list[tuple[int, dict[str, Any]]]:
        prefix = scope["path"].split("/")[1]
        vendor = self.shared.prefixes.get(prefix, prefix)
        answers_kept = self.shared.replayed_answers.get(vendor)
        if not answers_kept:
            return []
        path = scope["path"][len(prefix) + 1 :]
        query = dict(
            pair.split("=", 1)
            for pair in scope.get("query_string", b"").decode("latin-1").split("&")
            if "=" in pair
        )
        action = query.get("action", "")
        return [
            (status, shape)
            for method, pattern, recorded_action, status, shape in answers_kept
            if method == scope["method"] and recorded_action == action and pattern.fullmatch(path)
        ]

    @staticmethod
    def _pruned(started: dict, body: bytes, recorded: list[tuple[int, dict[str, Any]]]) -> bytes:
        shape = next((s for status, s in recorded if status == started.get("status")), None)
        content_type = dict(started.get("headers", [])).get(b"content-type", b"").decode("latin-1")
        if shape is None or not body:
            return body
        try:
            if "json" in content_type:
                return json.dumps(prune_json(json.loads(body), shape)).encode()
            if "xml" in content_type:
                from lxml import etree

                root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
                prune_xml(root, shape)
                return etree.tostring(root, xml_declaration=True, encoding="utf-8")
        except (ValueError, SyntaxError):
            return body  # not ours to judge: the answer goes as the emulator made it
        return body
