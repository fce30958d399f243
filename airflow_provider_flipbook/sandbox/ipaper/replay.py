"""iPaper's variants from a recording (see :mod:`..core.replay`).

A job GUID in ProcessPDF's answer, the shape of GetCustomFieldValue, and what the doctor saw of the
root's URL and a rerun's page ids.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_flipbook.sandbox.core.replay import answers, child

JOB_GUID = re.compile(r"job.?guid", re.IGNORECASE)


def options_from(part: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the options this account's answers call for, and what the sandbox cannot play.

    :param part: iPaper's part of a recording
    """
    options: dict[str, Any] = {}
    notes: list[str] = []
    for answer in answers(part, "POST", r"/V2/Ripper\.asmx/ProcessPDF"):
        data = child(answer["shape"], "data") or {}
        options["job_guid"] = any(JOB_GUID.search(tag) for tag in data.get("children") or {})
    for answer in answers(part, "POST", r"/V2/CustomField\.asmx/GetCustomFieldValue"):
        shape = custom_field_shape(child(answer["shape"], "data"))
        if shape:
            options["custom_field_value"] = shape
        else:
            notes.append("GetCustomFieldValue answered a shape the sandbox does not play")
    observed = part.get("observations") or {}
    if observed.get("ipaper.root_paper") in ("url", "missing"):
        options["root_url_lookup"] = observed["ipaper.root_paper"] == "url"
    if observed.get("ipaper.page_ids") in ("kept", "fresh"):
        options["page_ids"] = observed["ipaper.page_ids"]
    return options, notes


def custom_field_shape(data: dict[str, Any] | None) -> str | None:
    """Which of the sandbox's GetCustomFieldValue shapes a recorded ``<data>`` is, if any."""
    children = (data or {}).get("children") or {}
    if "value" in children:
        return "value"
    fields = child(data, "fields")
    if fields is not None:
        inner = child(fields, "field") or {}
        return "definitions" if "datatype" in (inner.get("attributes") or {}) else "fields"
    field = children.get("field")
    if field is not None:
        return "attribute" if "value" in (field.get("attributes") or {}) else "element"
    return None
