"""Papyrs's objects, with the lookups the routes share.

Subsites, pages and their widgets, attached files, people, folders, feed posts and records.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from airflow_provider_flipbook.sandbox.core.emulator import VendorState
from airflow_provider_flipbook.sandbox.core.state import IdSequence, iso
from airflow_provider_flipbook.sandbox.papyrs.answers import PapyrsError
from airflow_provider_flipbook.sandbox.papyrs.markdown import sanitize

WIDGET_OPTIONS = {
    "format": {"html", "text"},
    "styleclass": {
        "Paragraph": {"block", "quote", "note", "emphasis", "thin"},
        "Heading": {"line", "emphasis", "bars", "quote", "boxquote"},
    },
    "heading": {"h0", "h1", "h2", "h3", "h4"},
}


def vanity(size: int) -> str:
    return (
        f"{size} B"
        if size < 1024
        else f"{size / 1024:.0f} KB"
        if size < 1 << 20
        else f"{size / (1 << 20):.1f} MB"
    )


class PapyrsState(VendorState):
    """Papyrs's stored objects and the lookups the routes share.

    Held by the emulator (:mod:`.routes`) and its page routes (:mod:`.routes_pages`).
    """

    def reset(self) -> None:
        self.subsites = {"home": {"id": "1", "title": "Home", "description": "", "url": "home"}}
        self.pages: dict[str, dict[str, Any]] = {}
        self.widgets: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        self.people: dict[str, dict[str, Any]] = {
            str(n): {
                "id": str(n),
                "attributes": {"Name": name, "Position": pos, "Bio": "", "Group": "Staff"},
                "email": f"{name.split()[0].lower()}@example.com",
                "avatar_large": "/static/avatars/default_large.png",
                "role_id": "editor",
                "subgroup_id": "1",
                "waiting_invite": False,
                "distinguished_name": name,
                "subsites": {"home": {"role": "editor", "notifications": "on"}},
            }
            for n, (name, pos) in enumerate(
                [("Ava Chen", "HR lead"), ("Ben Ortiz", "Data engineer"), ("Cleo Nakamura", "Marketing")],
                start=301,
            )
        }
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.ids = IdSequence(8000)
        self.options: dict[str, Any] = {
            "failure_status": 400,
            "page_folder_field": "category",
            "known_widgets": None,
        }

    def counts(self) -> dict[str, int]:
        return {
            "pages": len(self.pages),
            "widgets": len(self.widgets),
            "attachments": len(self.files),
            "discussion_posts": len(self.posts),
            "folders": len(self.folders),
            "people": len(self.people),
            "subsites": len(self.subsites),
        }

    def next_id(self) -> str:
        """Return a fresh id for any Papyrs object (numbers from 8001, as strings)."""
        return str(self.ids.next())

    @staticmethod
    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise PapyrsError(400, "Request body must be JSON") from None
        if not isinstance(data, dict):
            raise PapyrsError(400, "Request body must be a JSON object")
        return data

    def page(self, pid: str, subsite: str) -> dict[str, Any]:
        page = self.pages.get(pid)
        if page is None or page["subsite"] != subsite:
            raise PapyrsError(404, "Resource not found, or no permission to access this resource")
        return page

    def summary(self, page: dict[str, Any]) -> dict[str, Any]:
        return {
            k: page[k]
            for k in (
                "id",
                "title",
                "slug",
                "url",
                "category",
                "created_at",
                "created_by",
                "updated_at",
                "is_public",
                "tags",
            )
        }

    def full(self, page: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.summary(page),
            "is_public": bool(page["is_public"]),
            "json": page["json"],
            "layout": page["layout"],
            "notifications": {},
            "permissions": {},
        }

    def _folder_path(self, subsite: str, category: str | None) -> str:
        path = (category or "").strip("/")
        if path:
            parts = path.split("/")
            for depth in range(1, len(parts) + 1):
                sub_path = "/".join(parts[:depth])
                if not any(f["path"] == sub_path and f["subsite"] == subsite for f in self.folders.values()):
                    fid = self.next_id()
                    self.folders[fid] = {"id": fid, "path": sub_path, "subsite": subsite}
        return path

    def new_page(
        self,
        subsite: str,
        title: str,
        columns: Any,
        layout: Any,
        category: str | None,
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        if not isinstance(columns, list) or not all(isinstance(c, list) for c in columns):
            raise PapyrsError(400, "json must be a list of columns, each a list of widgets")
        pid, now = self.next_id(), time.time()
        slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-") or "page"
        page: dict[str, Any] = {
            "id": pid,
            "title": title,
            "slug": slug,
            "url": f"{self.public}/@{subsite}/page/{pid}/{slug}",
            "category": self._folder_path(subsite, category),
            "created_at": iso(now),
            "created": now,
            "created_by": "API User",
            "updated_at": iso(now),
            "is_public": 0,
            "tags": tags or [],
            "subsite": subsite,
            "layout": layout or [["col-12"]] * max(len(columns), 1),
            "json": [],
        }
        for column in columns:
            page["json"].append(
                [
                    self.new_widget(pid, w.get("classname", "Paragraph"), w)
                    for w in column
                    if isinstance(w, dict)
                ]
            )
        if not page["json"]:
            page["json"] = [[]]
        self.pages[pid] = page
        return page

    def new_widget(
        self, pid: str, classname: str, spec: dict[str, Any], *, version_of: str | None = None
    ) -> dict:
        val = str(spec.get("val", spec.get("html", "")))
        rendered = html.escape(val).replace("\n", "<br>") if spec.get("format") == "text" else sanitize(val)
        widget: dict[str, Any] = {
            "id": self.next_id(),
            "classname": classname,
            "html": rendered,
            "text": html.unescape(re.sub(r"<[^>]+>", "", rendered)),
        }
        if classname == "Heading":
            widget["heading"] = spec.get("heading", "h1")
        if spec.get("styleclass"):
            widget["styleclass"] = spec["styleclass"]
        if version_of:
            widget["version_of_id"] = version_of
        self.widgets[widget["id"]] = {**widget, "page": pid}
        return widget

    def locate(self, page: dict[str, Any], wid: str) -> tuple[list[dict], int]:
        for column in page["json"]:
            for index, widget in enumerate(column):
                if widget["id"] == wid or widget.get("version_of_id") == wid:
                    return column, index
        raise PapyrsError(404, "Resource not found, or no permission to access this resource")

    def _file_entry(self, wid: str, filename: str, path: Any) -> dict[str, Any]:
        size = path.stat().st_size
        fid = secrets.token_hex(6)
        self.files[fid] = {"id": fid, "filename": filename, "path": path, "widget": wid}
        return {
            "filename": filename,
            "size": size,
            "url": f"{self.public}/file/{fid}/{filename}",
            "vanity_size": vanity(size),
        }

    def _drop_files(self, wid: str) -> None:
        for fid in [f for f, entry in self.files.items() if entry["widget"] == wid]:
            del self.files[fid]

    def person_view(self, person: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in person.items() if k not in ("email", "subsites")}

    def membership(self, person: dict[str, Any]) -> dict[str, Any]:
        return {
            "success": True,
            "id": person["id"],
            "email": person["email"],
            "subsites": [
                {"subsite_id": self.subsites[s]["id"], "subsite": s, **m}
                for s, m in person["subsites"].items()
                if s in self.subsites
            ],
        }

    def unsuccessful(self, message: str) -> JSONResponse:
        """Answer the people calls' documented failure: ``success`` false and the message in ``error``."""
        return JSONResponse({"success": False, "error": message}, int(self.options["failure_status"]))

    def person(self, uid: str) -> dict[str, Any]:
        if uid not in self.people:
            raise PapyrsError(404, "No such user")
        return self.people[uid]

    def find_folder(self, subsite: str, folder_id: Any, path: Any) -> dict[str, Any]:
        if bool(folder_id) == bool(path):
            raise PapyrsError(400, "Give either a folder id or a path, not both")
        for folder in self.folders.values():
            if (folder_id and folder["id"] == str(folder_id)) or (
                path and folder["path"] == str(path).strip("/") and folder["subsite"] == subsite
            ):
                return folder
        raise PapyrsError(404, "No such folder")
