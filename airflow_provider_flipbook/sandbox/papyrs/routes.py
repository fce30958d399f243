"""Papyrs's transport and its search, people, folder, feed and subsite routes.

The transport: token, rate limit, site-wide or ``@subsite`` URLs, the declared routes.
"""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from airflow_provider_flipbook.sandbox.core.emulator import Credential, VendorEmulator, token
from airflow_provider_flipbook.sandbox.core.limits import SlidingWindow
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.papyrs.answers import PapyrsError
from airflow_provider_flipbook.sandbox.papyrs.routes_pages import PageRoutes
from airflow_provider_flipbook.sandbox.papyrs.state import PapyrsState

SITE_WIDE_ONLY = {"people/invite", "people/delete", "subsites/all", "subsites/create"}
LIMITS = (SlidingWindow(6, 60.0),)  # per token


class PapyrsEmulator(VendorEmulator[PapyrsState]):
    """Papyrs's API at ``/papyrs/api/v1/`` and ``/papyrs/@<subsite>/api/v1/``, and its public pages.

    The transport and the site-wide routes here; the page routes (:mod:`.routes_pages`) and the
    objects (:mod:`.state`) are held, not inherited.
    """

    name = "papyrs"
    state_class = PapyrsState
    route_groups = (PageRoutes,)
    credentials = (Credential("token", lambda: token("pyt")),)

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": self.name,
            "host": self.public,
            "password": self.credential("token"),
            "extra": {"subsite": "home", "pacing_speed": self.shared.speed},
        }

    def error_body(self, status: int, code: str = "") -> tuple[bytes, str]:
        message = code or ("Rate limit exceeded: 6 requests/60 seconds" if status == 429 else "Server error")
        return f'{{"error": "{message}", "status": {status}}}'.encode(), "application/json"

    def routes(self) -> None:  # noqa: C901 - one small handler per route, defined inside
        compiled = [(r.method, re.compile(r.target + r"/?$"), r.handler) for r in self.declared()]

        @self.app.get("/@{subsite}/page/{pid}/{slug}")
        async def page_view(subsite: str, pid: str, slug: str) -> HTMLResponse:
            page = self.state.pages.get(pid)
            if page is None:
                return HTMLResponse("<h1>Not found</h1>", 404)
            body = "".join(w.get("html", "") for column in page["json"] for w in column)
            return HTMLResponse(
                f"<html><head><title>{html.escape(page['title'])}</title></head>"
                f"<body><h1>{html.escape(page['title'])}</h1>{body}</body></html>"
            )

        @self.app.get("/file/{fid}/{filename}")
        async def file_download(fid: str, filename: str) -> Response:
            entry = self.state.files.get(fid)
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
                if token != self.credential("token"):
                    raise PapyrsError(403, "Invalid or missing API token")
                if self.shared.limits.check("papyrs", token, LIMITS) is not None:
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
                        raise PapyrsError(405, f"Method {request.method} not allowed here")
                    endpoint = "/".join(rest.strip("/").split("/")[:2])
                    if subsite and endpoint in SITE_WIDE_ONLY:
                        raise PapyrsError(400, "This is a site-wide endpoint: call it without /@subsite/")
                    if subsite and subsite not in self.state.subsites:
                        raise PapyrsError(404, f"No subsite @{subsite}")
                    result = await handler(request, subsite or "home", **found.groupdict())
                    return JSONResponse(result) if not isinstance(result, Response) else result
                raise PapyrsError(405, "Method does not exist")
            except PapyrsError as failure:
                return failure.response()

    @route("GET", r"search/query")
    async def search(self, request: Request, subsite: str) -> dict[str, Any]:
        q = (request.query_params.get("q") or "").lower()
        if not q:
            raise PapyrsError(400, "q is required")
        results = []
        for page in self.state.pages.values():
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
        for person in self.state.people.values():
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

    @route("GET", r"people/all")
    async def people_all(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        scoped = "@" in request.url.path
        people = [p for p in self.state.people.values() if not scoped or subsite in p["subsites"]]
        return [self.state.person_view(p) for p in sorted(people, key=lambda p: int(p["id"]), reverse=True)]

    @route("POST", r"people/invite")
    async def people_invite(self, request: Request, subsite: str) -> dict[str, Any] | JSONResponse:
        body = await self.state.body(request)
        email = body.get("email_address")
        if not email or "@" not in str(email):
            return self.state.unsuccessful("email_address is required")
        if any(p["email"] == email for p in self.state.people.values()):
            return self.state.unsuccessful("A user with that email address exists")
        uid = self.state.next_id()
        name = body.get("name") or email
        self.state.people[uid] = {
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
        return self.state.membership(self.state.people[uid])

    @route("POST", r"people/delete/(?P<uid>\w+)")
    async def people_delete(self, request: Request, subsite: str, uid: str) -> dict[str, Any]:
        self.state.person(uid)
        del self.state.people[uid]
        return {"success": True}

    @route(
        "POST",
        r"people/(?P<op>add_to_subsite|remove_from_subsite|set_permission|set_notifications)/(?P<uid>\w+)",
    )
    async def people_membership(self, request: Request, subsite: str, op: str, uid: str) -> Any:
        person = self.state.person(uid)
        body = await self.state.body(request) if int(request.headers.get("content-length") or 0) else {}
        try:
            return self._membership(request, subsite, op, person, body)
        except PapyrsError as failure:
            if failure.status != 400:
                raise
            return self.state.unsuccessful(failure.message)

    def _membership(
        self, request: Request, subsite: str, op: str, person: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        scoped = "@" in request.url.path
        if op == "add_to_subsite":
            target = (
                subsite
                if scoped
                else next(
                    (s for s, v in self.state.subsites.items() if v["id"] == str(body.get("subsite_id"))),
                    None,
                )
            )
            if target is None:
                raise PapyrsError(400, "subsite_id is required on the site-wide URL")
            role = body.get("role") or "viewer"
            if role not in ("viewer", "editor", "admin"):
                raise PapyrsError(400, "role must be viewer, editor or admin")
            person["subsites"][target] = {"role": role, "notifications": "on"}
        elif not scoped:
            raise PapyrsError(400, "This call needs the subsite in the API URL")
        elif subsite not in person["subsites"]:
            raise PapyrsError(400, f"The user is not a member of @{subsite}")
        elif op == "remove_from_subsite":
            del person["subsites"][subsite]
        elif op == "set_permission":
            if body.get("role") not in ("viewer", "editor", "admin"):
                raise PapyrsError(400, "role must be viewer, editor or admin")
            person["subsites"][subsite]["role"] = body["role"]
        else:
            if body.get("notifications") not in ("off", "on", "digest"):
                raise PapyrsError(400, "notifications must be off, on or digest")
            person["subsites"][subsite]["notifications"] = body["notifications"]
        return self.state.membership(person)

    @route("GET", r"folder/tree")
    async def folder_tree(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        return [
            {"id": f["id"], "path": f["path"]} for f in self.state.folders.values() if f["subsite"] == subsite
        ]

    @route("POST", r"folder/delete")
    async def folder_delete(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.state.body(request)
        folder = self.state.find_folder(subsite, body.get("folder_id"), body.get("path"))
        prefix = folder["path"]
        if any(
            p["category"] == prefix or p["category"].startswith(prefix + "/")
            for p in self.state.pages.values()
            if p["subsite"] == folder["subsite"]
        ):
            raise PapyrsError(400, "The folder is not empty")
        for fid in [
            f["id"]
            for f in self.state.folders.values()
            if f["path"] == prefix or f["path"].startswith(prefix + "/")
        ]:
            del self.state.folders[fid]
        return {"success": True}

    @route("POST", r"folder/copy")
    async def folder_copy(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.state.body(request)
        source = self.state.find_folder(subsite, body.get("copy_folder_id"), body.get("copy_path"))
        target_path = body.get("target_path")
        if body.get("target_folder_id"):
            target_path = self.state.find_folder(subsite, body["target_folder_id"], None)["path"]
        if not target_path:
            raise PapyrsError(400, "target_folder_id or target_path is required")
        name = source["path"].rsplit("/", 1)[-1]
        pages = sorted(
            (
                p
                for p in self.state.pages.values()
                if p["subsite"] == source["subsite"]
                and (p["category"] == source["path"] or p["category"].startswith(source["path"] + "/"))
            ),
            key=lambda p: int(p["id"]),
        )
        done = int((body.get("more") or {}).get("offset", 0))
        for page in pages[done : done + 5]:
            category = f"{target_path.strip('/')}/{name}{page['category'][len(source['path']) :]}"
            columns = [[{k: v for k, v in w.items() if k != "id"} for w in c] for c in page["json"]]
            self.state.new_page(subsite, page["title"], columns, page["layout"], category)
        done += 5
        return {"success": True, "more": {"offset": done} if done < len(pages) else False}

    @route("POST", r"feed/post/(?P<pid>\w+)")
    async def feed_post(self, request: Request, subsite: str, pid: str) -> dict[str, Any]:
        page, body = self.state.page(pid, subsite), await self.state.body(request)
        if not any(w.get("classname") == "Discussion" for c in page["json"] for w in c):
            raise PapyrsError(400, "This page has no Discussion widget")
        if not str(body.get("msg") or "").strip():
            raise PapyrsError(400, "msg is required")
        post = {
            "id": int(self.state.next_id()),
            "by": "API User",
            "a": "/static/avatars/default_small.png",
            "c": html.escape(body["msg"]),
            "unsafe_c": body["msg"],
            "page": pid,
        }
        self.state.posts.append(post)
        return {k: v for k, v in post.items() if k != "page"}

    @route("POST", r"subsites/all")
    async def subsites_all(self, request: Request, subsite: str) -> list[dict[str, Any]]:
        return [{**s, "url": f"{self.public}/@{s['url']}"} for s in self.state.subsites.values()]

    @route("POST", r"subsites/create")
    async def subsites_create(self, request: Request, subsite: str) -> dict[str, Any]:
        body = await self.state.body(request)
        if not body.get("title"):
            raise PapyrsError(400, "title is required")
        url = re.sub(r"[^a-z0-9]+", "-", body["title"].lower()).strip("-")
        if url in self.state.subsites:
            raise PapyrsError(400, "A subsite with that name exists")
        self.state.subsites[url] = {
            "id": self.state.next_id(),
            "title": body["title"],
            "description": body.get("description", ""),
            "url": url,
        }
        return {**self.state.subsites[url], "url": f"{self.public}/@{url}"}
