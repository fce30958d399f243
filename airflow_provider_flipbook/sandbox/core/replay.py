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
``/_sandbox/reset``; the notes say what the recording showed that the sandbox cannot play.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_flipbook.sandbox.core.state import SandboxState

FORMAT = "flipbook-doctor-recording"
VERSIONS = {1}


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A recording from a file; ``ValueError`` naming what is wrong with it.

    :param path: the file ``flipbook-doctor --record`` wrote
    """
    try:
        return check_recording(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot replay {path}: {error}") from None


def check_recording(recording: Any) -> dict[str, Any]:
    """The recording itself if it is one this sandbox reads; ``ValueError`` naming what is wrong.

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
        notes += [f"{name}: {note}" for note in said]
    return notes


def answers(part: dict[str, Any], method: str, path: str, action: str = "") -> Iterator[dict[str, Any]]:
    """The recorded answers of one request: ``path`` is a regular expression over the recorded path.

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
    """The shape under ``keys``: object properties, stepping into a list's items where one is met."""
    for key in keys:
        shape = item(shape)
        if shape is None:
            return None
        shape = (shape.get("properties") or {}).get(key)
    return shape


def item(shape: dict[str, Any] | None) -> dict[str, Any] | None:
    """The shape of a list's items, or the shape itself when it is not a list."""
    if shape is not None and (shape.get("type") == "array" or "array" in shape.get("type", [])):
        return shape.get("items")
    return shape


def child(shape: dict[str, Any] | None, *tags: str) -> dict[str, Any] | None:
    """The XML shape under ``tags`` (children by tag)."""
    for tag in tags:
        if shape is None:
            return None
        shape = (shape.get("children") or {}).get(tag)
    return shape
