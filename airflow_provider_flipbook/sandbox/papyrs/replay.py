"""Papyrs's variants from a recording (see :mod:`..core.replay`).

Which field puts a new page in a folder, and whether a Discussion widget is kept, as the doctor's
write test saw them.
"""

from __future__ import annotations

from typing import Any

FOLDER_FIELDS = ("category", "folder_id")
DOCUMENTED_WIDGETS = ("Paragraph", "Heading", "Attachment")  # Text box, Heading and Attachment


def options_from(part: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the options this account's answers call for, and what the sandbox cannot play.

    :param part: Papyrs's part of a recording
    """
    options: dict[str, Any] = {}
    notes: list[str] = []
    observed = part.get("observations") or {}
    folder = observed.get("papyrs.category")
    if isinstance(folder, dict) and folder.get("field") in FOLDER_FIELDS:
        # Honoured: that field works; ignored: the only field tried did not, so play one that honours none.
        options["page_folder_field"] = folder["field"] if folder.get("honoured") else "none"
    discussion = observed.get("papyrs.discussion_widget")
    if isinstance(discussion, dict) and "kept" in discussion:
        # Dropped: a vendor that knows only the widget kinds its API page documents.
        options["known_widgets"] = None if discussion["kept"] else list(DOCUMENTED_WIDGETS)
    return options, notes
