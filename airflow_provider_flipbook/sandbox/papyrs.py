"""Papyrs emulator: ``/papyrs/api/v1/...`` (site-wide) and ``/papyrs/@<subsite>/api/v1/...``.

Auth: ``X-Auth-Token`` (or the legacy ``?auth_token=``); missing or wrong answers 403. Errors use
the documented ``{"error": ..., "status": ...}`` body. Rate limit: 6 requests per 60 s per token
(HTTP 429 with ``Retry-After``; the vendor documents the 429 and its error field, the header is
our choice). Subsite-scoped calls made on the site-wide URL act on ``@home``.

Paragraph/heading widgets take the documented body ``{"widget": {"val": ...}}``; their options
``format``, ``styleclass`` and ``heading`` are read from the request URL only, as the document
places them; in the body, or with a value the document does not list, they answer 400 (the
document's "wrong or missing parameter"). Markdown (``page/<id>/markdown/create/``) takes the same body (the only documented body
shape) and is rendered with markdown-it (tables on): every heading becomes a Heading widget (``#``
= h1 ... ``####``+ = h4), the blocks between them one Paragraph widget; any other body answers 400.
A widget update gets a new id and ``version_of_id``, and loses its ``styleclass`` unless it is
sent again.

Where the document is silent, ``options`` (``POST /_sandbox/options``) pick the shape:
``failure_status`` is the HTTP status of a people call's documented ``{"success": false, "error"}``
answer (400 by default, or 200).
``feed/post`` needs a Discussion widget on the page, as the vendor says.
"""

from __future__ import annotations

import html
import re
import secrets
import shutil
import time
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from airflow_provider_flipbook.sandbox.core.emulator import VendorEmulator
from airflow_provider_flipbook.sandbox.core.limits import SlidingWindow
from airflow_provider_flipbook.sandbox.core.state import iso

WIDGET_OPTIONS = {
    "format": {"html", "text"},
    "styleclass": {
        "Paragraph": {"block", "quote", "note", "emphasis", "thin"},
        "Heading": {"line", "emphasis", "bars", "quote", "boxquote"},
    },
    "heading": {"h0", "h1", "h2", "h3", "h4"},
}
SITE_WIDE_ONLY = {"people/invite", "people/delete", "subsites/all", "subsites/create"}


class Failure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def vanity(size: int) -> str:
    return (
        f"{size} B"
        if size < 1024
        else f"{size / 1024:.0f} KB"
        if size < 1 << 20
        else f"{size / (1 << 20):.1f} MB"
    )


class PapyrsEmulator(VendorEmulator):
    name = "papyrs"

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
        self._ids = 8000
        self.options: dict[str, Any] = {"failure_status": 400}

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

    def error_body(self, status: int) -> tuple[bytes, str]:
        message = "Rate limit exceeded: 6 requests/60 seconds" if status == 429 else "Server error"
        return f'{{"error": "{message}", "status": {status}}}'.encode(), "application/json"

    def next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    @property
    def public(self) -> str:
        return f"{self.shared.base_url}/papyrs"

    # -- transport --------------------------------------------------------------------------------

    def routes(self) -> None:
        table: list[tuple[str, str, Callable]] = [
            ("GET", r"pages/all", self.pages_all),
            ("GET", r"pages/get/(?P<pid>\w+)", self.pages_get),
            ("POST", r"pages/create", self.pages_create),
            ("POST", r"pages/delete/(?P<pid>\w+)", self.pages_delete),
            ("POST", r"pages/copy/(?P<pid>\w+)", self.pages_copy),
            ("GET", r"pages/records/(?P<pid>\w+)", self.pages_records),
            (
                "GET",
                r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading|attachment)/get/(?P<wid>\w+)",
                self.widget_get,
            ),
            ("POST", r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading)/create", self.widget_create),
            (
                "POST",
                r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading)/update/(?P<wid>\w+)",
                self.widget_update,
            ),
            (
                "POST",
                r"page/(?P<pid>\w+)/(?P<kind>paragraph|heading|attachment)/delete/(?P<wid>\w+)",
                self.widget_delete,
            ),
            ("POST", r"page/(?P<pid>\w+)/markdown/create", self.markdown_create),
            ("POST", r"page/(?P<pid>\w+)/attachment/create", self.attachment_create),
            ("POST", r"page/(?P<pid>\w+)/attachment/update/(?P<wid>\w+)", self.attachment_update),
            ("GET", r"search/query", self.search),
            ("GET", r"people/all", self.people_all),
            ("POST", r"people/invite", self.people_invite),
            ("POST", r"people/delete/(?P<uid>\w+)", self.people_delete),
            (
                "POST",
                r"people/(?P<op>add_to_subsite|remove_from_subsite|set_permission|set_notifications)/(?P<uid>\w+)",
                self.people_membership,
            ),
            ("GET", r"folder/tree", self.folder_tree),
            ("POST", r"folder/delete", self.folder_delete),
            ("POST", r"folder/copy", self.folder_copy),
            ("POST", r"feed/post/(?P<pid>\w+)", self.feed_post),
            ("POST", r"subsites/all", self.subsites_all),
            ("POST", r"subsites/create", self.subsites_create),
        ]
        compiled = [(m, re.compile(p + r"/?$"), h) for m, p, h in table]

        @self.app.get("/@{subsite}/page/{pid}/{slug}")
        async def page_view(subsite: str, pid: str, slug: str) -> HTMLResponse:
            page = self.pages.get(pid)
            if page is None:
                return HTMLResponse("<h1>Not found</h1>", 404)
            body = "".join(w.get("html", "") for column in page["json"] for w in column)
            return HTMLResponse(
                f"<html><head><title>{html.escape(page['title'])}</title></head>"
                f"<body><h1>{html.escape(page['title'])}</h1>{body}</body></html>"
            )

        @self.app.get("/file/{fid}/{filename}")
        async def file_download(fid: str, filename: str) -> Response:
            entry = self.files.get(fid)
            if entry is None or entry["filename"] != filename:
                return JSONResponse({"error": "Resource not found", "status": 404}, 404)
            return FileResponse(entry["path"], filename=filename)

        @self.app.api_route("/{full:path}", methods=["GET", "POST", "PUT", "DELETE"])
        async def api(full: str, request: Request) -> Response:
            match = re.match(r"(?:@(?P<sub>[\w-]+)/)?api/v1/(?P<rest>.*)$", full)
            if match is None:
                return JSONResponse({"error": "Resource not found", "status": 404}, 404)
            subsite, rest = match.group("sub"), match.group("rest")
            try:
                token = request.headers.get("x-auth-token") or request.query_params.get("auth_token")
                if token != self.shared.credentials.papyrs_token:
                    raise Failure(403, "Invalid or missing API token")
                if self.shared.limits.check("papyrs", token, (SlidingWindow(6, 60.0),)) is not None:
                    wait = self.shared.limits.retry_after("papyrs", token, 0)
                    return JSONResponse(
                        {"error": "Rate limit exceeded: 6 requests/60 seconds", "status": 429},
                        429,
                        headers={"Retry-After": str(max(1, round(wait + 0.5)))},
                    )
                for method, pattern, handler in compiled:
                    found = pattern.match(rest)
                    if found is None:
                        continue
                    if request.method != method:
                        raise Failure(405, f"Method {request.method} not allowed here")
                    endpoint = "/".join(rest.strip("/").split("/")[:2])
                    if subsite and endpoint in SITE_WIDE_ONLY:
                        raise Failure(400, "This is a site-wide endpoint: call it without /@subsite/")
                    if subsite and subsite not in self.subsites:
                        raise Failure(404, f"No subsite @{subsite}")
                    result = await handler(request, subsite or "home", **found.groupdict())
                    return JSONResponse(result) if not isinstance(result, Response) else result
                raise Failure(405, "Method does not exist")
            except Failure as failure:
                return JSONResponse({"error": failure.message, "status": failure.status}, failure.status)

    @staticmethod
    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise Failure(400, "Request body must be JSON") from None
        if not isinstance(data, dict):
            raise Failure(400, "Request body must be a JSON object")
        return data

    # -- pages ------------------------------------------------------------------------------------

    def page(self, pid: str, subsite: str) -> dict[str, Any]:
        page = self.pages.get(pid)
        if page is None or page["subsite"] != subsite:
            raise Failure(404, "Resource not found, or no permission to access this resource")
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

    async def pages_all(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        pages = [p for p in self.pages.values() if p["subsite"] == subsite]
        return [self.summary(p) for p in sorted(pages, key=lambda p: p["created"], reverse=True)]

    async def pages_get(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        return self.full(self.page(pid, subsite))

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
            raise Failure(400, "json must be a list of columns, each a list of widgets")
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

    async def pages_create(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.body(request)
        if not body.get("title") or "json" not in body:
            raise Failure(400, "title and json are required")
        return self.full(
            self.new_page(subsite, body["title"], body["json"], body.get("layout"), body.get("category"))
        )

    async def pages_delete(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page = self.page(pid, subsite)
        for column in page["json"]:
            for widget in column:
                self.widgets.pop(widget["id"], None)
                self._drop_files(widget["id"])
        self.posts = [p for p in self.posts if p["page"] != pid]
        del self.pages[pid]
        return {"success": True}

    async def pages_copy(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page, body = self.page(pid, subsite), await self.body(request)
        target_subsite, category = subsite, page["category"]
        if body.get("path"):
            match = re.match(r"@?([\w-]+):(.*)$", body["path"])
            target_subsite, category = (match.group(1), match.group(2)) if match else (subsite, body["path"])
        if body.get("folder_id"):
            folder = self.folders.get(str(body["folder_id"]))
            if folder is None:
                raise Failure(404, "No such folder")
            target_subsite, category = folder["subsite"], folder["path"]
        columns = [[{k: v for k, v in w.items() if k != "id"} for w in column] for column in page["json"]]
        tags = [t.strip() for t in body["tags"].split(",")] if body.get("tags") else list(page["tags"])
        copy = self.new_page(
            target_subsite, body.get("title") or page["title"], columns, page["layout"], category, tags
        )
        return self.full(copy)

    async def pages_records(self, request: Request, subsite: str, pid: str) -> list[dict[str, Any]]:
        self.page(pid, subsite)
        try:
            per_page = int(request.query_params.get("items_per_page", 50))
            number = int(request.query_params.get("page", 0))
        except ValueError:
            raise Failure(400, "page and items_per_page must be numbers") from None
        if not 1 <= per_page <= 250 or number < 0:
            raise Failure(400, "items_per_page must be 1-250 and page >= 0")
        records = self.records.get(pid, [])
        return records[number * per_page : (number + 1) * per_page]

    # -- widgets ------------------------------------------------------------------------------------

    def new_widget(
        self, pid: str, classname: str, spec: dict[str, Any], *, version_of: str | None = None
    ) -> dict:
        val = str(spec.get("val", spec.get("html", "")))
        rendered = html.escape(val).replace("\n", "<br>") if spec.get("format") == "text" else _sanitize(val)
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
        raise Failure(404, "Resource not found, or no permission to access this resource")

    async def widget_get(
        self, request: Request, subsite: str, pid: str, kind: str, wid: str
    ) -> dict[str, Any]:
        column, index = self.locate(self.page(pid, subsite), wid)
        return column[index]

    async def widget_spec(self, request: Request, classname: str) -> dict[str, Any]:
        """``val`` from the body, the options from the URL (the document's "additional parameters")."""
        spec = (await self.body(request)).get("widget")
        if not isinstance(spec, dict) or not isinstance(spec.get("val"), str):
            raise Failure(400, "widget.val is required")
        misplaced = sorted(set(spec) & set(WIDGET_OPTIONS))
        if misplaced:  # the document's 400: "wrong or missing parameter"
            raise Failure(400, f"{', '.join(misplaced)} must be given as URL parameters, not in the body")
        result = {"val": spec["val"]}
        for name, allowed in WIDGET_OPTIONS.items():
            value = request.query_params.get(name)
            if value is None:
                continue
            choices = allowed.get(classname, set()) if isinstance(allowed, dict) else allowed
            if name == "heading" and classname != "Heading" or value not in choices:
                raise Failure(400, f"Invalid value for {name}: {value!r}")
            result[name] = value
        return result

    async def widget_create(self, request: Request, subsite: str, pid: str, kind: str) -> dict[str, Any]:
        page = self.page(pid, subsite)
        widget = self.new_widget(pid, kind.capitalize(), await self.widget_spec(request, kind.capitalize()))
        page["json"][0].append(widget)
        page["updated_at"] = iso(time.time())
        return widget

    async def widget_update(
        self, request: Request, subsite: str, pid: str, kind: str, wid: str
    ) -> dict[str, Any]:
        page = self.page(pid, subsite)
        column, index = self.locate(page, wid)
        old = column[index]
        widget = self.new_widget(
            pid,
            old["classname"],
            await self.widget_spec(request, old["classname"]),
            version_of=old.get("version_of_id") or old["id"],
        )
        self.widgets.pop(old["id"], None)
        column[index] = widget
        return widget

    async def widget_delete(
        self, request: Request, subsite: str, pid: str, kind: str, wid: str
    ) -> dict[str, Any]:
        column, index = self.locate(self.page(pid, subsite), wid)
        removed = column.pop(index)
        self.widgets.pop(removed["id"], None)
        self._drop_files(removed["id"])
        return {"success": True}

    async def markdown_create(self, request: Request, subsite: str, pid: str) -> Any:
        page, body = self.page(pid, subsite), await self.body(request)
        widget = body.get("widget")
        source = widget.get("val") if isinstance(widget, dict) else None
        if not isinstance(source, str) or not source.strip():
            raise Failure(400, "widget.val is required and must not be empty")
        widgets = [self.new_widget(pid, kind, spec) for kind, spec in render_markdown(source)]
        page["json"][0].extend(widgets)
        page["updated_at"] = iso(time.time())
        return widgets[0] if len(widgets) == 1 else widgets

    async def _store_upload(self, request: Request) -> tuple[str, Any]:
        form = await request.form(max_files=1)
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise Failure(400, "Post one file in a field named file (multipart/form-data)")
            path = self.shared.new_file()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            return upload.filename or "file", path
        finally:
            await form.close()

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

    async def attachment_create(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page = self.page(pid, subsite)
        filename, path = await self._store_upload(request)
        widget: dict[str, Any] = {"id": self.next_id(), "classname": "Attachment", "files": []}
        widget["files"].append(self._file_entry(widget["id"], filename, path))
        self.widgets[widget["id"]] = {**widget, "page": pid}
        page["json"][0].append(widget)
        return widget

    async def attachment_update(self, request: Request, subsite: str, pid: str, wid: str) -> dict[str, Any]:
        page = self.page(pid, subsite)
        column, index = self.locate(page, wid)
        filename, path = await self._store_upload(request)
        old = column[index]
        widget = {
            "id": self.next_id(),
            "classname": "Attachment",
            "version_of_id": old.get("version_of_id") or old["id"],
            "files": [*old["files"]],
        }
        for entry in self.files.values():
            if entry["widget"] == old["id"]:
                entry["widget"] = widget["id"]
        widget["files"].append(self._file_entry(widget["id"], filename, path))
        self.widgets.pop(old["id"], None)
        self.widgets[widget["id"]] = {**widget, "page": pid}
        column[index] = widget
        return widget

    # -- search, people, folders, feed, subsites -------------------------------------------------------

    async def search(self, request: Request, subsite: str) -> dict[str, Any]:
        q = (request.query_params.get("q") or "").lower()
        if not q:
            raise Failure(400, "q is required")
        results = []
        for page in self.pages.values():
            text = page["title"] + " " + " ".join(w.get("text", "") for c in page["json"] for w in c)
            if q in text.lower() and page["subsite"] == subsite:
                results.append(
                    {
                        "id": page["id"],
                        "cat": "Page",
                        "desc": page["title"],
                        "icon": "icon-page",
                        "lnk": f"/@{subsite}/page/{page['id']}/{page['slug']}",
                        "weight": text.lower().count(q),
                    }
                )
        for person in self.people.values():
            if q in person["distinguished_name"].lower():
                results.append(
                    {
                        "id": person["id"],
                        "cat": "Contact",
                        "desc": person["distinguished_name"],
                        "icon": "icon-user",
                        "lnk": f"/people/{person['id']}/",
                        "weight": 1,
                    }
                )
        return {"results": sorted(results, key=lambda r: -r["weight"])}

    def person_view(self, person: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in person.items() if k not in ("email", "subsites")}

    async def people_all(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        scoped = "@" in request.url.path
        people = [p for p in self.people.values() if not scoped or subsite in p["subsites"]]
        return [self.person_view(p) for p in sorted(people, key=lambda p: int(p["id"]), reverse=True)]

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

    async def people_invite(self, request: Request, subsite: str) -> dict[str, Any] | JSONResponse:
        body = await self.body(request)
        email = body.get("email_address")
        if not email or "@" not in str(email):
            return self.unsuccessful("email_address is required")
        if any(p["email"] == email for p in self.people.values()):
            return self.unsuccessful("A user with that email address exists")
        uid = self.next_id()
        name = body.get("name") or email
        self.people[uid] = {
            "id": uid,
            "attributes": {"Name": name},
            "email": email,
            "avatar_large": "",
            "role_id": "viewer",
            "subgroup_id": "1",
            "waiting_invite": True,
            "distinguished_name": name,
            "subsites": {"home": {"role": "viewer", "notifications": "on"}}
            if body.get("auto_join", True)
            else {},
        }
        return self.membership(self.people[uid])

    def unsuccessful(self, message: str) -> JSONResponse:
        """The people calls' documented failure: ``success`` false and the message in ``error``."""
        return JSONResponse({"success": False, "error": message}, int(self.options["failure_status"]))

    def person(self, uid: str) -> dict[str, Any]:
        if uid not in self.people:
            raise Failure(404, "No such user")
        return self.people[uid]

    async def people_delete(self, request: Request, subsite: str, uid: str) -> dict[str, Any]:
        self.person(uid)
        del self.people[uid]
        return {"success": True}

    async def people_membership(self, request: Request, subsite: str, op: str, uid: str) -> Any:
        person = self.person(uid)
        body = await self.body(request) if int(request.headers.get("content-length") or 0) else {}
        try:
            return self._membership(request, subsite, op, person, body)
        except Failure as failure:
            if failure.status != 400:
                raise
            return self.unsuccessful(failure.message)

    def _membership(
        self, request: Request, subsite: str, op: str, person: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        scoped = "@" in request.url.path
        if op == "add_to_subsite":
            target = (
                subsite
                if scoped
                else next(
                    (s for s, v in self.subsites.items() if v["id"] == str(body.get("subsite_id"))), None
                )
            )
            if target is None:
                raise Failure(400, "subsite_id is required on the site-wide URL")
            role = body.get("role") or "viewer"
            if role not in ("viewer", "editor", "admin"):
                raise Failure(400, "role must be viewer, editor or admin")
            person["subsites"][target] = {"role": role, "notifications": "on"}
        elif not scoped:
            raise Failure(400, "This call needs the subsite in the API URL")
        elif subsite not in person["subsites"]:
            raise Failure(400, f"The user is not a member of @{subsite}")
        elif op == "remove_from_subsite":
            del person["subsites"][subsite]
        elif op == "set_permission":
            if body.get("role") not in ("viewer", "editor", "admin"):
                raise Failure(400, "role must be viewer, editor or admin")
            person["subsites"][subsite]["role"] = body["role"]
        else:
            if body.get("notifications") not in ("off", "on", "digest"):
                raise Failure(400, "notifications must be off, on or digest")
            person["subsites"][subsite]["notifications"] = body["notifications"]
        return self.membership(person)

    async def folder_tree(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        return [{"id": f["id"], "path": f["path"]} for f in self.folders.values() if f["subsite"] == subsite]

    def find_folder(self, subsite: str, folder_id: Any, path: Any) -> dict[str, Any]:
        if bool(folder_id) == bool(path):
            raise Failure(400, "Give either a folder id or a path, not both")
        for folder in self.folders.values():
            if (folder_id and folder["id"] == str(folder_id)) or (
                path and folder["path"] == str(path).strip("/") and folder["subsite"] == subsite
            ):
                return folder
        raise Failure(404, "No such folder")

    async def folder_delete(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.body(request)
        folder = self.find_folder(subsite, body.get("folder_id"), body.get("path"))
        prefix = folder["path"]
        if any(
            p["category"] == prefix or p["category"].startswith(prefix + "/")
            for p in self.pages.values()
            if p["subsite"] == folder["subsite"]
        ):
            raise Failure(400, "The folder is not empty")
        for fid in [
            f["id"]
            for f in self.folders.values()
            if f["path"] == prefix or f["path"].startswith(prefix + "/")
        ]:
            del self.folders[fid]
        return {"success": True}

    async def folder_copy(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.body(request)
        source = self.find_folder(subsite, body.get("copy_folder_id"), body.get("copy_path"))
        target_path = body.get("target_path")
        if body.get("target_folder_id"):
            target_path = self.find_folder(subsite, body["target_folder_id"], None)["path"]
        if not target_path:
            raise Failure(400, "target_folder_id or target_path is required")
        name = source["path"].rsplit("/", 1)[-1]
        pages = sorted(
            (
                p
                for p in self.pages.values()
                if p["subsite"] == source["subsite"]
                and (p["category"] == source["path"] or p["category"].startswith(source["path"] + "/"))
            ),
            key=lambda p: int(p["id"]),
        )
        done = int((body.get("more") or {}).get("offset", 0))
        for page in pages[done : done + 5]:
            category = f"{target_path.strip('/')}/{name}{page['category'][len(source['path']) :]}"
            columns = [[{k: v for k, v in w.items() if k != "id"} for w in c] for c in page["json"]]
            self.new_page(subsite, page["title"], columns, page["layout"], category)
        done += 5
        return {"success": True, "more": {"offset": done} if done < len(pages) else False}

    async def feed_post(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page, body = self.page(pid, subsite), await self.body(request)
        if not any(w.get("classname") == "Discussion" for c in page["json"] for w in c):
            raise Failure(400, "This page has no Discussion widget")
        if not str(body.get("msg") or "").strip():
            raise Failure(400, "msg is required")
        post = {
            "id": int(self.next_id()),
            "by": "API User",
            "a": "/static/avatars/default_small.png",
            "c": html.escape(body["msg"]),
            "unsafe_c": body["msg"],
            "page": pid,
        }
        self.posts.append(post)
        return {k: v for k, v in post.items() if k != "page"}

    async def subsites_all(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        return [{**s, "url": f"{self.public}/@{s['url']}"} for s in self.subsites.values()]

    async def subsites_create(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.body(request)
        if not body.get("title"):
            raise Failure(400, "title is required")
        url = re.sub(r"[^a-z0-9]+", "-", body["title"].lower()).strip("-")
        if url in self.subsites:
            raise Failure(400, "A subsite with that name exists")
        self.subsites[url] = {
            "id": self.next_id(),
            "title": body["title"],
            "description": body.get("description", ""),
            "url": url,
        }
        return {**self.subsites[url], "url": f"{self.public}/@{url}"}


def render_markdown(source: str) -> list[tuple[str, dict[str, Any]]]:
    """Markdown to (classname, widget spec) pairs: headings apart, everything between them as HTML."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(source)
    widgets: list[tuple[str, dict[str, Any]]] = []
    pending: list = []

    def flush() -> None:
        if pending:
            widgets.append(("Paragraph", {"val": md.renderer.render(pending, md.options, {}).strip()}))
            pending.clear()

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            flush()
            level = min(int(token.tag[1]), 4)
            widgets.append(
                ("Heading", {"val": html.escape(tokens[index + 1].content), "heading": f"h{level}"})
            )
            index += 3
            continue
        pending.append(token)
        index += 1
    flush()
    return widgets


def _sanitize(value: str) -> str:
    return re.sub(r"(?is)<(script|style|iframe)[^>]*>.*?</\1>", "", value)
