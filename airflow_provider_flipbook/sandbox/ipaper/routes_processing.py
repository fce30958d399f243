"""iPaper's Ripper service (PDF processing jobs) and Media service (directories and files)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from lxml import etree

from airflow_provider_flipbook.sandbox.core.emulator import RouteGroup
from airflow_provider_flipbook.sandbox.core.pdf import UnreadablePdf, inspect_file
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.ipaper.answers import (
    Answer,
    AsmxFault,
    ResultCode,
    element,
    in_data,
    success,
)
from airflow_provider_flipbook.sandbox.ipaper.state import IPaperState
from airflow_provider_flipbook.sandbox.ipaper.wire import FormParams, xml_option


class ProcessingRoutes(RouteGroup[IPaperState]):
    """``Ripper.asmx`` and ``Media.asmx``."""

    @route("POST", "Ripper/ProcessPDF")
    def Ripper_ProcessPDF(self, p: FormParams) -> Answer:
        node = self.state.paper(p, category=False)
        streamed = p.files.get("base64Pdf")
        if not self.state.options["license_allows_processing"]:
            raise ResultCode("LICENSE_DOES_NOT_ALLOW_PROCESSING", "The license does not allow processing.")
        self.state.advance_jobs()
        if any(j["paper"] == node["id"] and j["state"] == "Pending" for j in self.state.jobs.values()):
            raise ResultCode(
                "RIPPER_CANNOT_PROCESS_PAPER_ALREADY_BEING_PROCESSED", "Paper is already being processed."
            )
        if streamed is None and p.get("base64Pdf") is None:
            raise AsmxFault(500, "Missing parameter: base64Pdf.")
        if streamed is None or not streamed.valid:
            raise ResultCode(
                "RIPPER_INVALID_BASE64_PDF_FILE", "No PDF was sent, or its base64 could not be parsed."
            )
        password = xml_option(p.get("xmlOptions") or "", "password")
        error, pages = None, 0
        try:
            facts = inspect_file(streamed.path, "base64Pdf", password=password)
            pages = facts.pages + int(self.state.options["extra_pages"])
            if facts.encrypted and not password:
                error = "encrypted"
        except UnreadablePdf as bad:
            if "not a PDF" in str(bad) or "empty" in str(bad):
                raise ResultCode("RIPPER_INVALID_BASE64_PDF_FILE", str(bad)) from None
            error = str(bad)
        guid = str(uuid.uuid4())
        self.state.jobs[guid] = {
            "guid": guid,
            "paper": node["id"],
            "created": self.state.shared.now(),
            "pages": pages,
            "size": streamed.size,
            "error": error,
            "state": "Pending",
            "wall": time.time(),
        }
        data = in_data(element("jobGuid", guid)) if self.state.options["job_guid"] else None
        return success("Process queued successfully.", data)

    @route("POST", "Ripper/ReprocessPaper")
    def Ripper_ReprocessPaper(self, p: FormParams) -> Answer:
        node = self.state.paper(p, category=False)
        if node["pages"] == 0:
            raise ResultCode("ERROR", "The paper has no processed PDF to reprocess.")
        guid = str(uuid.uuid4())
        self.state.jobs[guid] = {
            "guid": guid,
            "paper": node["id"],
            "created": self.state.shared.now(),
            "pages": node["pages"],
            "size": (node["pdffilesize"] or 1) * 1024,
            "error": None,
            "state": "Pending",
            "wall": time.time(),
        }
        return success(
            "Reprocess queued.",
            in_data(element("jobGuid", guid)) if self.state.options["job_guid"] else None,
        )

    @route("POST", "Ripper/GetProcessingPapers")
    def Ripper_GetProcessingPapers(self, p: FormParams) -> Answer:
        self.state.advance_jobs()
        processes = element("processes")
        for job in self.state.jobs.values():
            if (
                job["state"] == "Pending"
                and self.state.shared.elapsed_real(job["created"]) >= self.state.options["appear_delay"]
            ):
                processes.append(
                    element(
                        "process",
                        created=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(job["wall"])),
                        paper_id=job["paper"],
                        progress=self.state.job_progress(job),
                    )
                )
        return success("List retrieved successfully.", in_data(processes))

    @route("POST", "Ripper/GetProcessingStatus")
    def Ripper_GetProcessingStatus(self, p: FormParams) -> Answer:
        self.state.advance_jobs()
        job = self.state.jobs.get(p.required("jobGuid"))
        if job is None:
            raise ResultCode("ERROR", "Unknown job.")
        return success("Status retrieved successfully.", in_data(element("ProcessStatus", job["state"])))

    @route("POST", "Media/GetTree")
    def Media_GetTree(self, p: FormParams) -> Answer:
        def directory(entry: dict[str, Any]) -> etree._Element:
            node = element("directory", directoryid=entry["id"], name=entry["name"])
            for file_id in entry["files"].values():
                f = self.state.media_files[file_id]
                node.append(element("file", fileid=f["id"], name=f["name"], size=max(f["size"] // 1024, 1)))
            for child in self.state.media.values():
                if child["parent"] == entry["id"]:
                    node.append(directory(child))
            return node

        data = element("data")
        for child in self.state.media.values():
            if child["parent"] == 0:
                data.append(directory(child))
        return success("", data)

    @route("POST", "Media/CreateDirectory")
    def Media_CreateDirectory(self, p: FormParams) -> Answer:
        parent = self.state.directory(p, "parentID")
        entry = {"id": self.state.next_id(), "name": p.required("name"), "parent": parent["id"], "files": {}}
        self.state.media[entry["id"]] = entry
        return success("", in_data(element("directoryid", str(entry["id"]))))

    @route("POST", "Media/DeleteDirectory")
    def Media_DeleteDirectory(self, p: FormParams) -> Answer:
        entry = self.state.directory(p, "directoryID")
        if entry["id"] == 0:
            raise ResultCode("ERROR", "The root cannot be deleted.")
        for file_id in entry["files"].values():
            self.state.media_files.pop(file_id, None)
        del self.state.media[entry["id"]]
        return success()

    @route("POST", "Media/DeleteFile")
    def Media_DeleteFile(self, p: FormParams) -> Answer:
        f = self.state.media_files.pop(p.int("fileID"), None)
        if f is None:
            raise ResultCode("ERROR", "File does not exist.")
        self.state.media[f["parent"]]["files"].pop(f["name"], None)
        return success()

    @route("POST", "Media/UploadFile")
    def Media_UploadFile(self, p: FormParams) -> Answer:
        parent, name = self.state.directory(p, "parentID"), p.required("name")
        streamed = p.files.get("base64File")
        if streamed is None or not streamed.valid:
            raise ResultCode("ERROR", "base64File is missing or not valid base64.")
        file_id = parent["files"].get(name) or self.state.next_id()  # upsert by name
        parent["files"][name] = file_id
        self.state.media_files[file_id] = {
            "id": file_id,
            "name": name,
            "size": streamed.size,
            "parent": parent["id"],
        }
        return success("", in_data(element("fileid", str(file_id))))
