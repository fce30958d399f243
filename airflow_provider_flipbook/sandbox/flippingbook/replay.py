"""FlippingBook's variants from a recording (see :mod:`..core.replay`).

The source's progress key and whether tracked links carry a full ``url``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flipbook.sandbox.core.replay import answers, at, item

SOURCE_STATES = {
    "WaitAutoQueue",
    "Queued",
    "Completed",
    "CompletedAllStages",
    "CompletedWithErrors",
    "WaitManualQueue",
}


def options_from(part: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the options this account's answers call for, and what the sandbox cannot play.

    :param part: FlippingBook's part of a recording
    """
    options: dict[str, Any] = {}
    notes: list[str] = []
    for answer in answers(part, "GET", r"/api/v1/fbonline/publication/\{id\}/source/\{id\}"):
        source = at(answer["shape"], "source") or {}
        progress = next((k for k in source.get("properties", {}) if k.lower() == "progress"), None)
        if progress:
            options["progress_key"] = progress
        else:
            notes.append("the recorded sources carry no progress field; the sandbox still writes one")
        unknown = set((at(answer["shape"], "source", "state") or {}).get("enum", [])) - SOURCE_STATES
        if unknown:
            notes.append(f"source states the sandbox never plays: {sorted(unknown)}")
    for answer in answers(part, "GET", r"/api/v1/fbonline/tracked_links(/\{id\})?"):
        link = item(at(answer["shape"], "links"))
        if link is not None and link.get("properties"):
            options["link_url"] = "url" in link["properties"]
    return options, notes
