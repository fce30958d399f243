"""iPaper Backend API emulator: ``/ipaper/V2/<Service>.asmx/<Method>`` (POST form or GET query).

A referee written from iPaper's per-method pages (``vendor-docs/ipaper``), not from the hook. By
default it answers as documented: ``<result>`` XML with the code and message in (padded) CDATA,
``Ripper.ProcessPDF`` with code and message only (no job GUID), an account root that is a category
with a non-zero id and URL ``/`` (no paper 0: that is ``PAPER_DOES_NOT_EXIST``; media directory 0
*is* documented as the root), ``usewildcards`` refused on non-string custom fields, and every
documented return code. Credentials are accepted in any of the field variants peers use
(``plUsername``/``plPassword``, ``username``/``password``, ``Username``/``Password``). ASMX
behaviour: a missing parameter or an unknown method is HTTP 500 text; an unknown service is 404;
like IIS, a POST without a ``Content-Length`` (chunked) binds no form fields.

Options (``POST /_sandbox/options {"ipaper": {...}}`` or ``flipbook-sandbox --option ipaper.X=Y``):
documented codes on demand (``readonly``: mutating methods answer READONLY;
``license_allows_processing: false``: LICENSE_DOES_NOT_ALLOW_PROCESSING), and the variants where the
documents are silent: ``job_guid`` (ProcessPDF answers ``<data><jobGuid>``, the newer API),
``root_url_lookup`` (whether GetPaperIDFromUrl finds the root at ``/``), ``page_ids`` (``fresh``:
each run gives new page ids; ``kept``: a rerun keeps them), ``appear_delay`` (vendor seconds before
a queued job shows in GetProcessingPapers), ``chunked_form`` (accept chunked form bodies).
Jobs take 2 s + 0.15 s per page on the vendor clock.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from lxml import etree

from airflow_provider_flipbook.exceptions import InvalidInputError
from airflow_provider_flipbook.sandbox.core.emulator import VendorEmulator
from airflow_provider_flipbook.sandbox.core.limits import SlidingWindow
from airflow_provider_flipbook.sandbox.ipaper_wire import (
    Answer,
    Asmx,
    E,
    Params,
    StreamedBase64,
    option,
    read_form,
    wrap,
    xml,
)
from airflow_provider_flipbook.utils.pdf import inspect_pdf

SERVICES = {"Paper", "Ripper", "Media", "CustomField", "Search", "Statistics", "Link", "Image"}
ROOT_ID = 182  # the top category of the documents' GetAllPapers sample
DEFAULT_OPTIONS: dict[str, Any] = {
    "job_guid": False,
    "readonly": False,
    "license_allows_processing": True,
    "root_url_lookup": True,
    "page_ids": "fresh",
    "appear_delay": 0.0,
    "chunked_form": False,
}
MUTATING = re.compile(r"^(Create|Delete|Move|Change|Set|Clear|Add|Upload|Process|Reprocess)")
SETTINGS = {
    "autoMaximize": ("bool", "false"),
    "iconPdf": ("bool", "true"),
    "enableSearch": ("bool", "true"),
    "pageFlipSound": ("bool", "false"),
    "language": ("string", "en"),
}
DATATYPES = {"datetime", "bool", "int", "string"}


class IPaperEmulator(VendorEmulator):
    name = "ipaper"

    def reset(self) -> None:
        self.nodes: dict[int, dict[str, Any]] = {
            ROOT_ID: self._node(ROOT_ID, None, "Account", "/", category=True)
        }
        self.jobs: dict[str, dict[str, Any]] = {}
        self.media: dict[int, dict[str, Any]] = {0: {"id": 0, "name": "", "parent": None, "files": {}}}
        self.media_files: dict[int, dict[str, Any]] = {}
        self.custom_fields: dict[str, str] = {}
        self.options = dict(DEFAULT_OPTIONS)
        self._next = 1000
        self._page_ids = 58_000

    def counts(self) -> dict[str, int]:
        return {
            "papers": sum(not n["category"] for n in self.nodes.values()),
            "categories": sum(n["category"] for n in self.nodes.values()) - 1,
            "processing_jobs": len(self.jobs),
            "media_files": len(self.media_files),
            "custom_fields": len(self.custom_fields),
        }

    def error_body(self, status: int) -> tuple[bytes, str]:
        if status == 200:
            return xml("SUCCESS", "List of papers retrieved."), "text/xml; charset=utf-8"
        return xml("ERROR", "Injected fault"), "text/xml; charset=utf-8"

    def malformed_body(self, kind: str) -> tuple[bytes, str]:
        if kind == "nocode":
            return (
                b'<?xml version="1.0" encoding="utf-8"?><result><message>hmm</message></result>',
                "text/xml",
            )
        if kind == "shape":  # a SUCCESS whose data no document shows
            return xml("SUCCESS", "", wrap(E("surprise", "?", kind="unknown"))), "text/xml; charset=utf-8"
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

    def _id(self) -> int:
        self._next += 1
        return self._next

    @staticmethod
    def _node(node_id: int, parent: int | None, name: str, url: str, *, category: bool) -> dict[str, Any]:
        return {
            "id": node_id,
            "parent": parent,
            "name": name,
            "url": url,
            "category": category,
            "period": None,
            "settings": {},
            "fields": {},
            "pages": 0,
            "page_base": 0,
            "lastprocessed": None,
            "pdffilesize": None,
        }

    # -- transport ------------------------------------------------------------------------------------

    def routes(self) -> None:
        @self.app.api_route("/V2/{service}.asmx/{method}", methods=["GET", "POST"])
        async def asmx(service: str, method: str, request: Request) -> Response:
            files: dict[str, StreamedBase64] = {}
            try:
                if service not in SERVICES:
                    raise Asmx(404, "Not Found")
                handler = getattr(self, f"{service}_{method}", None)
                if handler is None:
                    raise Asmx(
                        500, f"Request format is unrecognized for URL unexpectedly ending in '/{method}'."
                    )
                if request.method == "POST":
                    if "content-length" not in request.headers and not self.options["chunked_form"]:
                        raise Asmx(
                            500,
                            "Missing parameter: no form field was bound (a chunked body; IIS binds "
                            "a form only with a Content-Length).",
                        )
                    params, files = await read_form(request, self.shared.new_file)
                else:
                    params = dict(request.query_params)
                login = self.authenticate(params)
                if self.shared.limits.check("ipaper", login, (SlidingWindow(50, 60.0),)) is not None:
                    return Response(
                        xml("ERROR", "Rate limit exceeded: stay below 50 requests per minute"),
                        429,
                        media_type="text/xml; charset=utf-8",
                    )
                if self.options["readonly"] and MUTATING.match(method):
                    raise Answer("READONLY", "The system is currently in read-only mode.")
                handler(Params(params, files))
                raise Answer("SUCCESS")
            except Asmx as error:
                return Response(error.text, error.status, media_type="text/plain; charset=utf-8")
            except Answer as answer:
                return Response(
                    xml(answer.code, answer.message, answer.data), media_type="text/xml; charset=utf-8"
                )
            finally:
                for streamed in files.values():
                    streamed.path.unlink(missing_ok=True)

        @self.app.get("/viewer/{path:path}")
        async def viewer(path: str) -> HTMLResponse:
            node = next((n for n in self.nodes.values() if n["url"] == f"/{path.strip('/')}/"), None)
            if node is None:
                return HTMLResponse("<h1>Not found</h1>", 404)
            return HTMLResponse(f"<h1>{node['name']}</h1><p>{node['pages']} pages (sandbox viewer)</p>")

        @self.app.api_route("/{rest:path}", methods=["GET", "POST"])
        async def not_found(rest: str) -> Response:
            return Response("Not Found", 404, media_type="text/plain")

    def authenticate(self, p: dict[str, str]) -> str:
        creds = self.shared.credentials
        pairs = [
            (p.get(u), p.get(w))
            for u, w in (("plUsername", "plPassword"), ("username", "password"), ("Username", "Password"))
        ]
        for login, password in pairs:
            if (login, password) in (
                (creds.ipaper_user, creds.ipaper_password),
                ("APIKey", creds.ipaper_api_key),
            ):
                return str(login)
        raise Answer("LOGIN_SECURITY_VIOLATION", "Access denied.")

    # -- Paper -----------------------------------------------------------------------------------------

    def paper(self, p: Params, key: str = "paperID", *, category: bool | None = None) -> dict[str, Any]:
        node = self.nodes.get(p.int(key))
        if node is None:
            raise Answer("PAPER_DOES_NOT_EXIST", "The requested iPaper does not exist.")
        if category is False and node["category"]:
            raise Answer("PAPER_MUST_NOT_BE_CATEGORY", "The ID refers to a category.")
        if category is True and not node["category"]:
            raise Answer("ERROR", "The parent must be a category.")
        return node

    def tree(self, node: dict[str, Any]) -> etree._Element:
        self.settle()
        tag = "category" if node["category"] else "paper"
        period = node["period"] or (None, None)
        element = E(
            tag,
            id=node["id"],
            name=node["name"],
            url=node["url"],
            publicationperiod_from=period[0],
            publicationperiod_to=period[1],
        )
        for child in self.nodes.values():
            if child["parent"] == node["id"]:
                element.append(self.tree(child))
        return element

    def Paper_GetAllPapers(self, p: Params) -> None:
        data = E("data")
        data.append(self.tree(self.paper(p)))
        raise Answer("SUCCESS", "List of papers retrieved.", data)

    def _create(self, p: Params, parent_key: str, category: bool) -> None:
        parent = self.paper(p, parent_key, category=True)
        url_name = p.req("urlName").strip("/")
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", url_name):
            raise Answer("ERROR", "urlName may contain letters, digits, '-' and '_' only.")
        url = f"{parent['url']}{url_name}/"
        if any(n["url"] == url for n in self.nodes.values()):
            raise Answer("ERROR", f"The URL {url} is already in use.")
        node = self._node(self._id(), parent["id"], p.req("name"), url, category=category)
        self.nodes[node["id"]] = node
        raise Answer(
            "SUCCESS", "Category created." if category else "Paper created.", wrap(E("paper", id=node["id"]))
        )

    def Paper_CreatePaper(self, p: Params) -> None:
        self._create(p, "parentID", category=False)

    def Paper_CreateCategory(self, p: Params) -> None:
        self._create(p, "paperID", category=True)

    def Paper_DeletePaper(self, p: Params) -> None:
        node = self.paper(p)
        doomed = {node["id"]}
        while True:
            more = {n["id"] for n in self.nodes.values() if n["parent"] in doomed} - doomed
            if not more:
                break
            doomed |= more
        for node_id in doomed:
            self.nodes.pop(node_id, None)
        raise Answer("SUCCESS", "Paper deleted.")

    def Paper_MovePaper(self, p: Params) -> None:
        node, target = self.paper(p, "sourcePaperID"), self.paper(p, "destinationParentID", category=True)
        node["parent"] = target["id"]
        node["url"] = f"{target['url']}{node['url'].rstrip('/').rsplit('/', 1)[-1]}/"
        raise Answer("SUCCESS", "Paper moved.")

    def Paper_ChangePaperUrl(self, p: Params) -> None:
        node, new = self.paper(p), p.req("newUrl")
        if not (new.startswith("/") and new.endswith("/")) or any(
            n["url"] == new for n in self.nodes.values()
        ):
            raise Answer("ERROR", "The new URL must start and end with '/' and be unique.")
        node["url"] = new
        raise Answer("SUCCESS", "Url changed.")

    def Paper_GetPaperIDFromUrl(self, p: Params) -> None:
        url = p.req("url")
        node = next((n for n in self.nodes.values() if n["url"] == url), None)
        if node is None or (node["id"] == ROOT_ID and not self.options["root_url_lookup"]):
            raise Answer("SUCCESS", "Paper not found.")
        raise Answer("SUCCESS", "Paper found.", wrap(E("paper", id=node["id"])))

    def Paper_GetPaperUrlFromID(self, p: Params) -> None:
        raise Answer("SUCCESS", "Url retrieved.", wrap(E("paper", url=self.paper(p)["url"])))

    def Paper_GetPaperStructure(self, p: Params) -> None:
        self.settle()
        node = self.paper(p, category=False)
        paper = E("paper", id=node["id"], name=node["name"], url=node["url"])
        pages = etree.SubElement(paper, "pages")
        for number in range(1, node["pages"] + 1):
            page = etree.SubElement(pages, "page", id=str(node["page_base"] + number), number=str(number))
            page.set("part-of-index", "False")
            if p.get("includeIndexedText") == "true":
                page.append(E("text", f"{node['name']} page {number}"))
            images = etree.SubElement(page, "images")
            for kind in ("Zoom", "Normal", "Thumb"):
                images.append(
                    E(
                        "image",
                        file_size=1234,
                        type=kind,
                        url=f"{self.shared.base_url}/ipaper/Image.ashx?PageID={page.get('id')}&ImageType={kind}",
                    )
                )
        raise Answer("SUCCESS", "Structure retrieved.", wrap(paper))

    def Paper_CreatePreviewToken(self, p: Params) -> None:
        self.paper(p)
        p.int("validityMinutes")
        raise Answer("SUCCESS", "Token created.", wrap(E("token", str(uuid.uuid4()))))

    def Paper_SetPublicationPeriod(self, p: Params) -> None:
        node = self.paper(p)
        start, end = p.req("from"), p.req("to")
        for value in (start, end):
            if not re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d(:\d\d)?)?", value):
                raise Answer("ERROR", f"Invalid date {value!r}; use YYYY-MM-DD HH:MM:SS.")
        node["period"] = (start, end)
        raise Answer("SUCCESS", "Publication period set.")

    def Paper_ClearPublicationPeriod(self, p: Params) -> None:
        self.paper(p)["period"] = None
        raise Answer("SUCCESS", "Publication period cleared.")

    def Paper_GetSettingDescriptions(self, p: Params) -> None:
        settings = E("settings")
        for name, (kind, _) in SETTINGS.items():
            settings.append(E("setting", name=name, description=name, explanation="", type=kind))
        raise Answer("SUCCESS", "Descriptions retrieved.", wrap(settings))

    def Paper_GetSetting(self, p: Params) -> None:
        node, name = self.paper(p), p.req("setting")
        if name not in SETTINGS:
            raise Answer("ERROR", f"Unknown setting {name}.")
        raise Answer(
            "SUCCESS", "Setting retrieved.", wrap(E(name, node["settings"].get(name, SETTINGS[name][1])))
        )

    def Paper_SetSetting(self, p: Params) -> None:
        node, name, value = self.paper(p), p.req("setting"), p.req("value")
        if name not in SETTINGS or (SETTINGS[name][0] == "bool" and value not in ("true", "false")):
            raise Answer("ERROR", f"Invalid setting or value for {name}.")
        node["settings"][name] = value
        raise Answer("SUCCESS", "Setting saved.")

    # -- Ripper ------------------------------------------------------------------------------------------

    def settle(self) -> None:
        for job in self.jobs.values():
            if job["state"] == "Pending" and self.job_progress(job) >= 100:
                job["state"] = "Failed" if job["error"] else "Completed"
                node = self.nodes.get(job["paper"])
                if node is not None and not job["error"]:
                    if self.options["page_ids"] == "fresh" or not node["page_base"]:
                        node["page_base"], self._page_ids = self._page_ids, self._page_ids + job["pages"]
                    node.update(
                        pages=job["pages"],
                        lastprocessed=time.strftime("%Y-%m-%d %H:%M:%S"),
                        pdffilesize=max(job["size"] // 1024, 1),
                    )

    def job_progress(self, job: dict[str, Any]) -> int:
        duration = 2.0 + 0.15 * max(job["pages"], 1)
        elapsed = self.shared.elapsed_real(job["created"]) - float(self.options["appear_delay"])
        return max(min(int(100 * elapsed / duration), 100), 0)

    def Ripper_ProcessPDF(self, p: Params) -> None:
        node = self.paper(p, category=False)
        streamed = p.files.get("base64Pdf")
        if not self.options["license_allows_processing"]:
            raise Answer("LICENSE_DOES_NOT_ALLOW_PROCESSING", "The license does not allow processing.")
        self.settle()
        if any(j["paper"] == node["id"] and j["state"] == "Pending" for j in self.jobs.values()):
            raise Answer(
                "RIPPER_CANNOT_PROCESS_PAPER_ALREADY_BEING_PROCESSED", "Paper is already being processed."
            )
        if streamed is None and p.get("base64Pdf") is None:
            raise Asmx(500, "Missing parameter: base64Pdf.")
        if streamed is None or not streamed.valid:
            raise Answer(
                "RIPPER_INVALID_BASE64_PDF_FILE", "No PDF was sent, or its base64 could not be parsed."
            )
        password = option(p.get("xmlOptions") or "", "password")
        error, pages = None, 0
        try:
            with open(streamed.path, "rb") as stream:
                facts = inspect_pdf(stream, "base64Pdf", password=password)
            pages = facts.pages
            if facts.encrypted and not password:
                error = "encrypted"
        except InvalidInputError as bad:
            if "not a PDF" in str(bad) or "empty" in str(bad):
                raise Answer("RIPPER_INVALID_BASE64_PDF_FILE", str(bad)) from None
            error = str(bad)
        guid = str(uuid.uuid4())
        self.jobs[guid] = {
            "guid": guid,
            "paper": node["id"],
            "created": self.shared.now(),
            "pages": pages,
            "size": streamed.size,
            "error": error,
            "state": "Pending",
            "wall": time.time(),
        }
        data = wrap(E("jobGuid", guid)) if self.options["job_guid"] else None
        raise Answer("SUCCESS", "Process queued successfully.", data)

    def Ripper_ReprocessPaper(self, p: Params) -> None:
        node = self.paper(p, category=False)
        if node["pages"] == 0:
            raise Answer("ERROR", "The paper has no processed PDF to reprocess.")
        guid = str(uuid.uuid4())
        self.jobs[guid] = {
            "guid": guid,
            "paper": node["id"],
            "created": self.shared.now(),
            "pages": node["pages"],
            "size": (node["pdffilesize"] or 1) * 1024,
            "error": None,
            "state": "Pending",
            "wall": time.time(),
        }
        raise Answer(
            "SUCCESS", "Reprocess queued.", wrap(E("jobGuid", guid)) if self.options["job_guid"] else None
        )

    def Ripper_GetProcessingPapers(self, p: Params) -> None:
        self.settle()
        processes = E("processes")
        for job in self.jobs.values():
            if (
                job["state"] == "Pending"
                and self.shared.elapsed_real(job["created"]) >= self.options["appear_delay"]
            ):
                processes.append(
                    E(
                        "process",
                        created=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(job["wall"])),
                        paper_id=job["paper"],
                        progress=self.job_progress(job),
                    )
                )
        raise Answer("SUCCESS", "List retrieved successfully.", wrap(processes))

    def Ripper_GetProcessingStatus(self, p: Params) -> None:
        self.settle()
        job = self.jobs.get(p.req("jobGuid"))
        if job is None:
            raise Answer("ERROR", "Unknown job.")
        raise Answer("SUCCESS", "Status retrieved successfully.", wrap(E("ProcessStatus", job["state"])))

    # -- Media ----------------------------------------------------------------------------------------------

    def Media_GetTree(self, p: Params) -> None:
        def directory(entry: dict[str, Any]) -> etree._Element:
            node = E("directory", directoryid=entry["id"], name=entry["name"])
            for file_id in entry["files"].values():
                f = self.media_files[file_id]
                node.append(E("file", fileid=f["id"], name=f["name"], size=max(f["size"] // 1024, 1)))
            for child in self.media.values():
                if child["parent"] == entry["id"]:
                    node.append(directory(child))
            return node

        data = E("data")
        for child in self.media.values():
            if child["parent"] == 0:
                data.append(directory(child))
        raise Answer("SUCCESS", "", data)

    def _directory(self, p: Params, key: str) -> dict[str, Any]:
        entry = self.media.get(p.int(key))
        if entry is None:
            raise Answer("ERROR", "Directory does not exist.")
        return entry

    def Media_CreateDirectory(self, p: Params) -> None:
        parent = self._directory(p, "parentID")
        entry = {"id": self._id(), "name": p.req("name"), "parent": parent["id"], "files": {}}
        self.media[entry["id"]] = entry
        raise Answer("SUCCESS", "", wrap(E("directoryid", str(entry["id"]))))

    def Media_DeleteDirectory(self, p: Params) -> None:
        entry = self._directory(p, "directoryID")
        if entry["id"] == 0:
            raise Answer("ERROR", "The root cannot be deleted.")
        for file_id in entry["files"].values():
            self.media_files.pop(file_id, None)
        del self.media[entry["id"]]
        raise Answer("SUCCESS")

    def Media_DeleteFile(self, p: Params) -> None:
        f = self.media_files.pop(p.int("fileID"), None)
        if f is None:
            raise Answer("ERROR", "File does not exist.")
        self.media[f["parent"]]["files"].pop(f["name"], None)
        raise Answer("SUCCESS")

    def Media_UploadFile(self, p: Params) -> None:
        parent, name = self._directory(p, "parentID"), p.req("name")
        streamed = p.files.get("base64File")
        if streamed is None or not streamed.valid:
            raise Answer("ERROR", "base64File is missing or not valid base64.")
        file_id = parent["files"].get(name) or self._id()  # upsert by name
        parent["files"][name] = file_id
        self.media_files[file_id] = {
            "id": file_id,
            "name": name,
            "size": streamed.size,
            "parent": parent["id"],
        }
        raise Answer("SUCCESS", "", wrap(E("fileid", str(file_id))))

    # -- CustomField ------------------------------------------------------------------------------------------

    def CustomField_AddCustomField(self, p: Params) -> None:
        name, kind = p.req("name"), p.req("dataType")
        if not re.fullmatch(r"[a-zA-Z0-9_]{1,128}", name):
            raise Answer("CUSTOMFIELD_INVALID_FIELD_NAME", "Invalid field name.")
        if kind not in DATATYPES:
            raise Answer("CUSTOMFIELD_INVALID_DATATYPE", "Invalid datatype.")
        if name in self.custom_fields:
            raise Answer("CUSTOMFIELD_FIELD_NAME_IS_NOT_UNIQUE", "A field with that name exists.")
        self.custom_fields[name] = kind
        raise Answer("SUCCESS")

    def CustomField_DeleteCustomField(self, p: Params) -> None:
        if self.custom_fields.pop(p.req("name"), None) is None:
            raise Answer("CUSTOMFIELD_FIELD_DOES_NOT_EXIST", "No such field.")
        raise Answer("SUCCESS")

    def CustomField_GetCustomFieldDefinitions(self, p: Params) -> None:
        fields = E("fields")
        for name, kind in self.custom_fields.items():
            fields.append(E("field", name=name, datatype=kind))
        raise Answer("SUCCESS", "", wrap(fields))

    def CustomField_GetCustomFieldValue(self, p: Params) -> None:
        node, name = self.paper(p, category=False), p.req("fieldName")
        if name not in self.custom_fields:
            raise Answer("CUSTOMFIELD_FIELD_DOES_NOT_EXIST", "No such field.")
        raise Answer("SUCCESS", "", wrap(E("field", node["fields"].get(name, ""), name=name)))

    def _set_value(self, node: dict[str, Any], name: str, value: str) -> None:
        kind = self.custom_fields.get(name)
        if kind is None:
            raise Answer("CUSTOMFIELD_FIELD_DOES_NOT_EXIST", "No such field.", wrap(E("field", name=name)))
        valid = {
            "int": r"-?\d+",
            "bool": r"true|false",
            "datetime": r"\d{4}-\d\d-\d\d( \d\d:\d\d(:\d\d)?)?",
            "string": r"(?s).*",
        }[kind]
        if not re.fullmatch(valid, value):
            raise Answer(
                "CUSTOMFIELD_INVALID_DATA_FORMAT", f"{value!r} is not a {kind}.", wrap(E("field", name=name))
            )
        node["fields"][name] = value

    def CustomField_SetCustomFieldValue(self, p: Params) -> None:
        self._set_value(self.paper(p, category=False), p.req("fieldName"), p.req("value"))
        raise Answer("SUCCESS")

    def CustomField_SetMultipleCustomFieldValues(self, p: Params) -> None:
        node = self.paper(p, category=False)
        try:
            fields = etree.fromstring(
                p.req("fieldsXml").encode(), etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except etree.XMLSyntaxError:
            raise Answer("ERROR", "fieldsXml is not valid XML.") from None
        for field in fields.findall("field"):  # not atomic: stops at the first failure
            self._set_value(node, field.get("name", ""), (field.text or "").strip())
        raise Answer("SUCCESS")

    # -- Search and Statistics --------------------------------------------------------------------------------

    def _below(self, root_id: int) -> list[dict[str, Any]]:
        root = self.nodes.get(root_id)
        if root is None:
            raise Answer("PAPER_DOES_NOT_EXIST", "The requested iPaper does not exist.")
        found, frontier = [], [root["id"]]
        while frontier:
            current = frontier.pop()
            for node in self.nodes.values():
                if node["parent"] == current:
                    found.append(node)
                    frontier.append(node["id"])
        return found + ([root] if not root["category"] else [])

    def Search_SearchPapersByContent(self, p: Params) -> None:
        query = p.req("query")[:128].lower()
        results = E("results")
        for node in self._below(p.int("categoryOrPaperID")):
            if not node["category"] and query in node["name"].lower():
                results.append(
                    E(
                        "result",
                        paperID=node["id"],
                        pageNumber=1,
                        paperName=node["name"],
                        paperUrl=node["url"],
                    )
                )
        raise Answer("SUCCESS", "Search results returned.", wrap(results))

    def _hierarchy(self, p: Params) -> None:
        query = p.req("query").lower()
        papers = E("papers")
        for node in self._below(p.int("categoryID")):
            if query in node["name"].lower():
                papers.append(
                    E(
                        "paper",
                        paperID=node["id"],
                        name=node["name"],
                        url=node["url"],
                        parentID=node["parent"],
                        category=str(node["category"]),
                    )
                )
        raise Answer("SUCCESS", "Search results returned.", wrap(papers))

    Search_SearchPapersWithHiearchyByName = _hierarchy
    Search_SearchPapersWithHiearchyByContent = _hierarchy

    def Search_SearchPapersByCustomFields(self, p: Params) -> None:
        options = etree.fromstring(
            p.req("xmlOptions").encode(), etree.XMLParser(resolve_entities=False, no_network=True)
        )
        criteria = options.findall("customfieldcriterias/field")
        if not criteria:
            raise Answer("SEARCH_NO_CUSTOM_FIELD_CRITERIAS", "At least one criterion is required.")
        for c in criteria:
            if c.get("usewildcards") is not None and self.custom_fields.get(c.get("name", "")) != "string":
                # "Must only be specified for string type custom fields" (even as "false")
                raise Answer(
                    "SEARCH_CUSTOMFIELD_DATATYPE_DOES_NOT_SUPPORT_WILDCARDS", "Wildcards need strings."
                )
        self.settle()
        papers = E("papers")
        for node in self._below(p.int("categoryID")):
            if node["category"]:
                continue
            ok = True
            for c in criteria:
                name, wanted = c.get("name", ""), c.get("value", "")
                if c.get("usewildcards") == "true":
                    pattern = "^" + ".*".join(re.escape(part) for part in wanted.split("%")) + "$"
                    ok &= re.match(pattern, node["fields"].get(name, ""), re.I) is not None
                else:
                    ok &= node["fields"].get(name) == wanted
            if ok:
                paper = E(
                    "paper",
                    id=node["id"],
                    name=node["name"],
                    url=node["url"],
                    lastprocessed=node["lastprocessed"],
                    pdffilesize=node["pdffilesize"],
                )
                fields = etree.SubElement(paper, "customfields")
                for name, kind in self.custom_fields.items():
                    value = node["fields"].get(name)
                    fields.append(E("field", value or "", name=name, type=kind, null=str(value is None)))
                papers.append(paper)
        raise Answer("SUCCESS", "Search results returned.", wrap(papers))

    def _days(self, p: Params) -> tuple[dict[str, Any], list[date]]:
        node = self.paper(p)
        try:
            start, end = date.fromisoformat(p.req("from")), date.fromisoformat(p.req("to"))
        except ValueError:
            raise Answer("ERROR", "Dates must be YYYY-MM-DD.") from None
        return node, [start + timedelta(days=n) for n in range((end - start).days + 1)][:3660]

    @staticmethod
    def _count(node_id: int, day: date, salt: str) -> int:
        return int(hashlib.sha256(f"{node_id}{day}{salt}".encode()).hexdigest()[:4], 16) % 120

    def Statistics_GetNumberOfPageviewsPerDay(self, p: Params) -> None:
        node, days = self._days(p)
        views = E("pageviews")
        for day in days:
            views.append(E("day", date=day.isoformat(), views=self._count(node["id"], day, "v")))
        raise Answer("SUCCESS", "", wrap(views))

    def Statistics_GetNumberOfVisitorsPerDay(self, p: Params) -> None:
        node, days = self._days(p)
        visitors = E("visitors")
        for day in days:
            visitors.append(E("day", date=day.isoformat(), visitors=self._count(node["id"], day, "s") // 3))
        raise Answer("SUCCESS", "", wrap(visitors))

    def Statistics_GetNumberOfVisitors(self, p: Params) -> None:
        node, days = self._days(p)
        raise Answer(
            "SUCCESS", "", wrap(E("visitors", count=sum(self._count(node["id"], d, "s") // 3 for d in days)))
        )

    def Link_GetLinks(self, p: Params) -> None:
        self.paper(p, category=False)
        raise Answer("SUCCESS", "", wrap(E("root")))
