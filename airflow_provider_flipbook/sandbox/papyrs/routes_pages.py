"""Papyrs's page, widget (paragraph, heading, markdown) and attachment routes."""

from __future__ import annotations

import re
import shutil
import time
from typing import Any

from fastapi import Request

from airflow_provider_flipbook.sandbox.core.emulator import RouteGroup
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.core.state import iso
from airflow_provider_flipbook.sandbox.papyrs.answers import PapyrsError
from airflow_provider_flipbook.sandbox.papyrs.markdown import render_markdown
from airflow_provider_flipbook.sandbox.papyrs.state import WIDGET_OPTIONS, PapyrsState


class PageRoutes(RouteGroup[PapyrsState]):
    """Pages, widgets and attachments (documented per endpoint; options read from the URL only)."""

    @route("GET", r"pages/all")
    async def pages_all(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        pages = [p for p in self.state.pages.values() if p["subsite"] == subsite]
        return [self.state.summary(p) for p in sorted(pages, key=lambda p: p["created"], reverse=True)]

    @route("GET", r"pages/get/(?P<pid>\w+)")
    async def pages_get(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        return self.state.full(self.state.page(pid, subsite))

    @route("POST", r"pages/create")
    async def pages_create(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.state.body(request)
        if not body.get("title") or "json" not in body:
            raise PapyrsError(400, "title and json are required")
        # The document names no folder field: the option picks the one this vendor honours (others
        # are ignored, as unknown fields are; the page then lands in the main folder).
        honoured, category = self.state.options["page_folder_field"], None
        if honoured == "category":
            category = body.get("category")
        elif honoured == "folder_id" and body.get("folder_id") is not None:
            folder = self.state.folders.get(str(body["folder_id"]))
            if folder is None or folder["subsite"] != subsite:
                raise PapyrsError(404, "No such folder")
            category = folder["path"]
        known = self.state.options["known_widgets"]
        columns = body["json"]
        if known is not None and isinstance(columns, list):  # widgets of unknown kinds are dropped
            columns = [
                [w for w in c if isinstance(w, dict) and w.get("classname", "Paragraph") in known]
                if isinstance(c, list)
                else c
                for c in columns
            ]
        return self.state.full(
            self.state.new_page(subsite, body["title"], columns, body.get("layout"), category)
        )

    @route("POST", r"pages/delete/(?P<pid>\w+)")
    async def pages_delete(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page = self.state.page(pid, subsite)
        for column in page["json"]:
            for widget in column:
                self.state.widgets.pop(widget["id"], None)
                self.state._drop_files(widget["id"])
        self.state.posts = [p for p in self.state.posts if p["page"] != pid]
        del self.state.pages[pid]
        return {"success": True}

    @route("POST", r"pages/copy/(?P<pid>\w+)")
    async def pages_copy(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page, body = self.state.page(pid, subsite), await self.state.body(request)
        target_subsite, category = subsite, page["category"]
        if body.get("path"):
            match = re.match(r"@?([\w-]+):(.*)$", body["path"])
            target_subsite, category = (match.group(1), match.group(2)) if match else (subsite, body["path"])
        if body.get("folder_id"):
            folder = self.state.folders.get(str(body["folder_id"]))
            if folder is None:
                raise PapyrsError(404, "No such folder")
            target_subsite, category = folder["subsite"], folder["path"]
        columns = [[{k: v for k, v in w.items() if k != "id"} for w in column] for column in page["json"]]
        tags = [t.strip() for t in body["tags"].split(",")] if body.get("tags") else list(page["tags"])
        copy = self.state.new_page(
            target_subsite, body.get("title") or page["title"], columns, page["layout"], category, tags
        )
        return self.state.full(copy)

    @route("GET", r"pages/records/(?P<pid>\w+)")
    async def pages_records(self, request: Request, subsite: str, pid: str) -> list[dict[str, Any]]:
        self.state.page(pid, subsite)
        try:
            per_page = int(request.query_params.get("items_per_page", 50))
            number = int(request.query_params.get("page", 0))
        except ValueError:
            raise PapyrsError(400, "page and items_per_page must be numbers") from None
        if not 1 <= per_page <= 250 or number < 0:
            raise PapyrsError(400, "items_per_page must be 1-250 and page >= 0")
        records = self.state.records.get(pid, [])
        return records[number * per_page : (number + 1) * per_page]

    @route("GET", r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading|attachment)/get/(?P<wid>\w+)")
    async def widget_get(
        self, request: Request, subsite: str, pid: str, kind: str, wid: str
    ) -> dict[str, Any]:
        column, index = self.state.locate(self.state.page(pid, subsite), wid)
        return column[index]

    async def widget_spec(self, request: Request, classname: str) -> dict[str, Any]:
        """``val`` from the body, the options from the URL (the document's "additional parameters")."""
        spec = (await self.state.body(request)).get("widget")
        if not isinstance(spec, dict) or not isinstance(spec.get("val"), str):
            raise PapyrsError(400, "widget.val is required")
        misplaced = sorted(set(spec) & set(WIDGET_OPTIONS))
        if misplaced:  # the document's 400: "wrong or missing parameter"
            raise PapyrsError(400, f"{', '.join(misplaced)} must be given as URL parameters, not in the body")
        result = {"val": spec["val"]}
        for name, allowed in WIDGET_OPTIONS.items():
            value = request.query_params.get(name)
            if value is None:
                continue
            choices = allowed.get(classname, set()) if isinstance(allowed, dict) else allowed
            if name == "heading" and classname != "Heading" or value not in choices:
                raise PapyrsError(400, f"Invalid value for {name}: {value!r}")
            result[name] = value
        return result

    @route("POST", r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading)/create")
    async def widget_create(self, request: Request, subsite: str, pid: str, kind: str) -> dict[str, Any]:
        page = self.state.page(pid, subsite)
        widget = self.state.new_widget(
            pid, kind.capitalize(), await self.widget_spec(request, kind.capitalize())
        )
        page["json"][0].append(widget)
        page["updated_at"] = iso(time.time())
        return widget

    @route("POST", r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading)/update/(?P<wid>\w+)")
    async def widget_update(
        self, request: Request, subsite: str, pid: str, kind: str, wid: str
    ) -> dict[str, Any]:
        page = self.state.page(pid, subsite)
        column, index = self.state.locate(page, wid)
        old = column[index]
        widget = self.state.new_widget(
            pid,
            old["classname"],
            await self.widget_spec(request, old["classname"]),
            version_of=old.get("version_of_id") or old["id"],
        )
        self.state.widgets.pop(old["id"], None)
        column[index] = widget
        return widget

    @route("POST", r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading|attachment)/delete/(?P<wid>\w+)")
    async def widget_delete(
        self, request: Request, subsite: str, pid: str, kind: str, wid: str
    ) -> dict[str, Any]:
        column, index = self.state.locate(self.state.page(pid, subsite), wid)
        removed = column.pop(index)
        self.state.widgets.pop(removed["id"], None)
        self.state._drop_files(removed["id"])
        return {"success": True}

    @route("POST", r"page/(?P<pid>\w+)/markdown/create")
    async def markdown_create(self, request: Request, subsite: str, pid: str) -> Any:
        page, body = self.state.page(pid, subsite), await self.state.body(request)
        widget = body.get("widget")
        source = widget.get("val") if isinstance(widget, dict) else None
        if not isinstance(source, str) or not source.strip():
            raise PapyrsError(400, "widget.val is required and must not be empty")
        widgets = [self.state.new_widget(pid, kind, spec) for kind, spec in render_markdown(source)]
        page["json"][0].extend(widgets)
        page["updated_at"] = iso(time.time())
        return widgets[0] if len(widgets) == 1 else widgets

    async def _store_upload(self, request: Request) -> tuple[str, Any]:
        form = await request.form(max_files=1)
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise PapyrsError(400, "Post one file in a field named file (multipart/form-data)")
            path = self.state.shared.new_file()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            return upload.filename or "file", path
        finally:
            await form.close()

    @route("POST", r"page/(?P<pid>\w+)/attachment/create")
    async def attachment_create(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page = self.state.page(pid, subsite)
        filename, path = await self._store_upload(request)
        widget: dict[str, Any] = {"id": self.state.next_id(), "classname": "Attachment", "files": []}
        widget["files"].append(self.state._file_entry(widget["id"], filename, path))
        self.state.widgets[widget["id"]] = {**widget, "page": pid}
        page["json"][0].append(widget)
        return widget

    @route("POST", r"page/(?P<pid>\w+)/attachment/update/(?P<wid>\w+)")
    async def attachment_update(self, request: Request, subsite: str, pid: str, wid: str) -> dict[str, Any]:
        page = self.state.page(pid, subsite)
        column, index = self.state.locate(page, wid)
        filename, path = await self._store_upload(request)
        old = column[index]
        widget = {
            "id": self.state.next_id(),
            "classname": "Attachment",
            "version_of_id": old.get("version_of_id") or old["id"],
            "files": [*old["files"]],
        }
        for entry in self.state.files.values():
            if entry["widget"] == old["id"]:
                entry["widget"] = widget["id"]
        widget["files"].append(self.state._file_entry(widget["id"], filename, path))
        self.state.widgets.pop(old["id"], None)
        self.state.widgets[widget["id"]] = {**widget, "page": pid}
        column[index] = widget
        return widget
