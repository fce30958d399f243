"""iPaper's ASMX transport and its Paper service.

The transport: ``/V2/<Service>.asmx/<Method>``, form or query, credentials, rate limit, read-only
mode.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from lxml import etree

from airflow_provider_flipbook.sandbox.core.emulator import Credential, VendorEmulator, token
from airflow_provider_flipbook.sandbox.core.errors import VendorError
from airflow_provider_flipbook.sandbox.core.limits import SlidingWindow
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.ipaper.answers import (
    Answer,
    AsmxFault,
    ResultCode,
    element,
    in_data,
    result_xml,
    success,
)
from airflow_provider_flipbook.sandbox.ipaper.routes_processing import ProcessingRoutes
from airflow_provider_flipbook.sandbox.ipaper.routes_search import SearchRoutes
from airflow_provider_flipbook.sandbox.ipaper.state import MUTATING, ROOT_ID, SERVICES, SETTINGS, IPaperState
from airflow_provider_flipbook.sandbox.ipaper.wire import FormParams, StreamedBase64, read_form

LIMITS = (SlidingWindow(50, 60.0),)  # per login


class IPaperEmulator(VendorEmulator[IPaperState]):
    """iPaper's Backend API (``/ipaper/V2/``) and its public viewer.

    The transport and the Paper service here; the other services (:mod:`.routes_search`,
    :mod:`.routes_processing`) and the objects (:mod:`.state`) are held, not inherited.
    """

    name = "ipaper"
    state_class = IPaperState
    route_groups = (SearchRoutes, ProcessingRoutes)
    credentials = (
        Credential("user", lambda: "publisher@example.com", secret=False),
        Credential("password", lambda: token("ipp")),
        Credential("api_key", lambda: token("ipk")),
    )

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": self.name,
            "host": self.public,
            "login": "APIKey",
            "password": self.credential("api_key"),
            "extra": {"viewer_base_url": f"{self.public}/viewer", "pacing_speed": self.shared.speed},
        }

    def error_body(self, status: int, code: str = "") -> tuple[bytes, str]:
        if code:
            return result_xml(code, "Injected fault"), "text/xml; charset=utf-8"
        if status == 200:
            return result_xml("SUCCESS", "List of papers retrieved."), "text/xml; charset=utf-8"
        return result_xml("ERROR", "Injected fault"), "text/xml; charset=utf-8"

    def malformed_body(self, kind: str) -> tuple[bytes, str]:
        if kind == "nocode":
            return (
                b'<?xml version="1.0" encoding="utf-8"?><result><message>hmm</message></result>',
                "text/xml",
            )
        if kind == "shape":  # a SUCCESS whose data no document shows
            return result_xml(
                "SUCCESS", "", in_data(element("surprise", "?", kind="unknown"))
            ), "text/xml; charset=utf-8"
        if kind == "xxe":
            return (
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b"<result><code>SUCCESS</code><message>&x;</message></result>"
            ), "text/xml"
        if kind == "lol":
            entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
                f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
            )
            return (
                f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><result><code>SUCCESS</code>'
                f"<message>&j;</message></result>"
            ).encode(), "text/xml"
        return super().malformed_body(kind)

    def routes(self) -> None:  # noqa: C901 - one small handler per route, defined inside
        methods = {declared.target: declared.handler for declared in self.declared()}

        @self.app.api_route("/V2/{service}.asmx/{method}", methods=["GET", "POST"])
        async def asmx(service: str, method: str, request: Request) -> Response:
            files: dict[str, StreamedBase64] = {}
            try:
                if service not in SERVICES:
                    raise AsmxFault(404, "Not Found")
                handler = methods.get(f"{service}/{method}")
                if handler is None:
                    raise AsmxFault(
                        500, f"Request format is unrecognized for URL unexpectedly ending in '/{method}'."
                    )
                if request.method == "POST":
                    if "content-length" not in request.headers and not self.options["chunked_form"]:
                        raise AsmxFault(
                            500,
                            "Missing parameter: no form field was bound (a chunked body; IIS binds "
                            "a form only with a Content-Length).",
                        )
                    params, files = await read_form(request, self.shared.new_file)
                else:
                    params = dict(request.query_params)
                login = self.authenticate(params)
                if self.shared.limits.check("ipaper", login, LIMITS) is not None:
                    return Response(
                        result_xml("ERROR", "Rate limit exceeded: stay below 50 requests per minute"),
                        429,
                        media_type="text/xml; charset=utf-8",
                    )
                if self.options["readonly"] and MUTATING.match(method):
                    raise ResultCode("READONLY", "The system is currently in read-only mode.")
                return handler(FormParams(params, files)).response()
            except VendorError as error:  # AsmxFault, or a method's error code (ResultCode)
                return error.response()
            finally:
                for streamed in files.values():
                    streamed.path.unlink(missing_ok=True)

        @self.app.get("/viewer/{path:path}")
        async def viewer(path: str) -> HTMLResponse:
            node = next((n for n in self.state.nodes.values() if n["url"] == f"/{path.strip('/')}/"), None)
            if node is None:
                return HTMLResponse("<h1>Not found</h1>", 404)
            return HTMLResponse(f"<h1>{node['name']}</h1><p>{node['pages']} pages (sandbox viewer)</p>")

        @self.app.api_route("/{rest:path}", methods=["GET", "POST"])
        async def not_found(rest: str) -> Response:
            return Response("Not Found", 404, media_type="text/plain")

    def authenticate(self, p: dict[str, str]) -> str:
        pairs = [
            (p.get(u), p.get(w))
            for u, w in (("plUsername", "plPassword"), ("username", "password"), ("Username", "Password"))
        ]
        for login, password in pairs:
            if (login, password) in (
                (self.credential("user"), self.credential("password")),
                ("APIKey", self.credential("api_key")),
            ):
                return str(login)
        raise ResultCode("LOGIN_SECURITY_VIOLATION", "Access denied.")

    @route("POST", "Paper/GetAllPapers")
    def Paper_GetAllPapers(self, p: FormParams) -> Answer:
        data = element("data")
        data.append(self.state.tree(self.state.paper(p)))
        return success("List of papers retrieved.", data)

    def _create(self, p: FormParams, parent_key: str, category: bool) -> Answer:
        parent = self.state.paper(p, parent_key, category=True)
        url_name = p.required("urlName").strip("/")
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", url_name):
            raise ResultCode("ERROR", "urlName may contain letters, digits, '-' and '_' only.")
        url = f"{parent['url']}{url_name}/"
        if any(n["url"] == url for n in self.state.nodes.values()):
            raise ResultCode("ERROR", f"The URL {url} is already in use.")
        node = self.state.new_node(
            self.state.next_id(), parent["id"], p.required("name"), url, category=category
        )
        self.state.nodes[node["id"]] = node
        return success(
            "Category created." if category else "Paper created.",
            in_data(element("paper", id=node["id"])),
        )

    @route("POST", "Paper/CreatePaper")
    def Paper_CreatePaper(self, p: FormParams) -> Answer:
        return self._create(p, "parentID", category=False)

    @route("POST", "Paper/CreateCategory")
    def Paper_CreateCategory(self, p: FormParams) -> Answer:
        return self._create(p, "paperID", category=True)

    @route("POST", "Paper/DeletePaper")
    def Paper_DeletePaper(self, p: FormParams) -> Answer:
        node = self.state.paper(p)
        doomed = {node["id"]}
        while True:
            more = {n["id"] for n in self.state.nodes.values() if n["parent"] in doomed} - doomed
            if not more:
                break
            doomed |= more
        for node_id in doomed:
            self.state.nodes.pop(node_id, None)
        return success("Paper deleted.")

    @route("POST", "Paper/MovePaper")
    def Paper_MovePaper(self, p: FormParams) -> Answer:
        node, target = (
            self.state.paper(p, "sourcePaperID"),
            self.state.paper(p, "destinationParentID", category=True),
        )
        node["parent"] = target["id"]
        node["url"] = f"{target['url']}{node['url'].rstrip('/').rsplit('/', 1)[-1]}/"
        return success("Paper moved.")

    @route("POST", "Paper/ChangePaperUrl")
    def Paper_ChangePaperUrl(self, p: FormParams) -> Answer:
        node, new = self.state.paper(p), p.required("newUrl")
        if not (new.startswith("/") and new.endswith("/")) or any(
            n["url"] == new for n in self.state.nodes.values()
        ):
            raise ResultCode("ERROR", "The new URL must start and end with '/' and be unique.")
        node["url"] = new
        return success("Url changed.")

    @route("POST", "Paper/GetPaperIDFromUrl")
    def Paper_GetPaperIDFromUrl(self, p: FormParams) -> Answer:
        url = p.required("url")
        node = next((n for n in self.state.nodes.values() if n["url"] == url), None)
        if node is None or (node["id"] == ROOT_ID and not self.options["root_url_lookup"]):
            return success("Paper not found.")
        return success("Paper found.", in_data(element("paper", id=node["id"])))

    @route("POST", "Paper/GetPaperUrlFromID")
    def Paper_GetPaperUrlFromID(self, p: FormParams) -> Answer:
        return success("Url retrieved.", in_data(element("paper", url=self.state.paper(p)["url"])))

    @route("POST", "Paper/GetPaperStructure")
    def Paper_GetPaperStructure(self, p: FormParams) -> Answer:
        self.state.advance_jobs()
        node = self.state.paper(p, category=False)
        paper = element("paper", id=node["id"], name=node["name"], url=node["url"])
        pages = etree.SubElement(paper, "pages")
        for number in range(1, node["pages"] + 1):
            page = etree.SubElement(pages, "page", id=str(node["page_base"] + number), number=str(number))
            page.set("part-of-index", "False")
            if p.get("includeIndexedText") == "true":
                page.append(element("text", f"{node['name']} page {number}"))
            images = etree.SubElement(page, "images")
            for kind in ("Zoom", "Normal", "Thumb"):
                images.append(
                    element(
                        "image",
                        file_size=1234,
                        type=kind,
                        url=f"{self.shared.base_url}/ipaper/Image.ashx?PageID={page.get('id')}&ImageType={kind}",
                    )
                )
        return success("Structure retrieved.", in_data(paper))

    @route("POST", "Paper/CreatePreviewToken")
    def Paper_CreatePreviewToken(self, p: FormParams) -> Answer:
        self.state.paper(p)
        p.int("validityMinutes")
        return success("Token created.", in_data(element("token", str(uuid.uuid4()))))

    @route("POST", "Paper/SetPublicationPeriod")
    def Paper_SetPublicationPeriod(self, p: FormParams) -> Answer:
        node = self.state.paper(p)
        start, end = p.required("from"), p.required("to")
        for value in (start, end):
            if not re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d(:\d\d)?)?", value):
                raise ResultCode("ERROR", f"Invalid date {value!r}; use YYYY-MM-DD HH:MM:SS.")
        node["period"] = (start, end)
        return success("Publication period set.")

    @route("POST", "Paper/ClearPublicationPeriod")
    def Paper_ClearPublicationPeriod(self, p: FormParams) -> Answer:
        self.state.paper(p)["period"] = None
        return success("Publication period cleared.")

    @route("POST", "Paper/GetSettingDescriptions")
    def Paper_GetSettingDescriptions(self, p: FormParams) -> Answer:
        settings = element("settings")
        for name, (kind, _) in SETTINGS.items():
            settings.append(element("setting", name=name, description=name, explanation="", type=kind))
        return success("Descriptions retrieved.", in_data(settings))

    @route("POST", "Paper/GetSetting")
    def Paper_GetSetting(self, p: FormParams) -> Answer:
        node, name = self.state.paper(p), p.required("setting")
        if name not in SETTINGS:
            raise ResultCode("ERROR", f"Unknown setting {name}.")
        return success(
            "Setting retrieved.",
            in_data(element(name, node["settings"].get(name, SETTINGS[name][1]))),
        )

    @route("POST", "Paper/SetSetting")
    def Paper_SetSetting(self, p: FormParams) -> Answer:
        node, name, value = self.state.paper(p), p.required("setting"), p.required("value")
        if name not in SETTINGS or (SETTINGS[name][0] == "bool" and value not in ("true", "false")):
            raise ResultCode("ERROR", f"Invalid setting or value for {name}.")
        node["settings"][name] = value
        return success("Setting saved.")
