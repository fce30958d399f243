"""Flipsnack's variants from a recording (see :mod:`..core.replay`).

The key of a collection's items, what getList's query, range, count and entries do.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flipbook.sandbox.core.replay import answers, at

ITEM_STATUSES = {"processing", "complete", "failed"}


def options_from(part: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the options this account's answers call for, and what the sandbox cannot play.

    :param part: Flipsnack's part of a recording
    """
    options: dict[str, Any] = {}
    notes: list[str] = []
    for answer in answers(part, "GET", r"/v1/", "collection.getCollection"):
        data = at(answer["shape"], "data") or {}
        for key, shape in (data.get("properties") or {}).items():
            item = shape.get("items") if shape.get("type") == "array" else None
            if item is not None and "status" in (item.get("properties") or {}):
                options["items_key"] = key
                unknown = {
                    str(s).lower() for s in item["properties"]["status"].get("enum", [])
                } - ITEM_STATUSES
                if unknown:
                    notes.append(f"item statuses the sandbox never plays: {sorted(unknown)}")
        if "items_key" not in options:
            notes.append(f"no item list with a status among {sorted(data.get('properties') or {})}")
    observed = part.get("observations") or {}
    query = observed.get("flipsnack.query")
    if isinstance(query, dict):
        # What the account's query searched, in the sandbox's terms: not the title at all (the one other
        # field it plays is the description), nothing (every collection), or the title and more.
        if query.get("finds_title") is False:
            options["list_query"] = "description"
        else:
            options["list_query"] = "text" if query.get("narrows", True) else "ignored"
    count = observed.get("flipsnack.list_count")
    if isinstance(count, dict) and count.get("counts") in ("total", "range", "absent"):
        options["list_count"] = count["counts"]
    items = observed.get("flipsnack.list_items")
    if isinstance(items, dict) and isinstance(items.get("listed"), bool):
        options["list_items"] = items["listed"]
    cap = observed.get("flipsnack.page_size")
    if isinstance(cap, dict) and isinstance(cap.get("answered"), int):
        options["list_cap"] = cap["answered"]
    return options, notes
