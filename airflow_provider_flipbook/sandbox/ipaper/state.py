"""iPaper's objects and the lookups the services share.

The paper and category tree, processing jobs (on the vendor clock), the media directories and files,
custom field definitions.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date, timedelta
from typing import Any

from lxml import etree

from airflow_provider_flipbook.sandbox.core.emulator import VendorState
from airflow_provider_flipbook.sandbox.core.state import IdSequence
from airflow_provider_flipbook.sandbox.ipaper.answers import ResultCode, element, in_data
from airflow_provider_flipbook.sandbox.ipaper.wire import FormParams

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
    "custom_field_value": "element",
    "extra_pages": 0,
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


class IPaperState(VendorState):
    """iPaper's stored objects and their life cycle, and the lookups the services share.

    Held by the emulator in :mod:`.routes` and the services in :mod:`.routes_search` and
    :mod:`.routes_processing`.
    """

    def reset(self) -> None:
        self.nodes: dict[int, dict[str, Any]] = {
            ROOT_ID: self.new_node(ROOT_ID, None, "Account", "/", category=True)
        }
        self.jobs: dict[str, dict[str, Any]] = {}
        self.media: dict[int, dict[str, Any]] = {0: {"id": 0, "name": "", "parent": None, "files": {}}}
        self.media_files: dict[int, dict[str, Any]] = {}
        self.custom_fields: dict[str, str] = {}
        self.options = dict(DEFAULT_OPTIONS)
        self.ids = IdSequence(1000)
        self._page_ids = 58_000

    def counts(self) -> dict[str, int]:
        return {
            "papers": sum(not n["category"] for n in self.nodes.values()),
            "categories": sum(n["category"] for n in self.nodes.values()) - 1,
            "processing_jobs": len(self.jobs),
            "media_files": len(self.media_files),
            "custom_fields": len(self.custom_fields),
        }

    def next_id(self) -> int:
        """Return a fresh id for a paper, category or media entry (numbers from 1001)."""
        return self.ids.next()

    @staticmethod
    def new_node(node_id: int, parent: int | None, name: str, url: str, *, category: bool) -> dict[str, Any]:
        """Build a paper or category as the tree keeps it (not yet in the tree)."""
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

    def paper(self, p: FormParams, key: str = "paperID", *, category: bool | None = None) -> dict[str, Any]:
        node = self.nodes.get(p.int(key))
        if node is None:
            raise ResultCode("PAPER_DOES_NOT_EXIST", "The requested iPaper does not exist.")
        if category is False and node["category"]:
            raise ResultCode("PAPER_MUST_NOT_BE_CATEGORY", "The ID refers to a category.")
        if category is True and not node["category"]:
            raise ResultCode("ERROR", "The parent must be a category.")
        return node

    def tree(self, node: dict[str, Any]) -> etree._Element:
        self.advance_jobs()
        tag = "category" if node["category"] else "paper"
        period = node["period"] or (None, None)
        subtree = element(
            tag,
            id=node["id"],
            name=node["name"],
            url=node["url"],
            publicationperiod_from=period[0],
            publicationperiod_to=period[1],
        )
        for child in self.nodes.values():
            if child["parent"] == node["id"]:
                subtree.append(self.tree(child))
        return subtree

    def advance_jobs(self) -> None:
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

    def directory(self, p: FormParams, key: str) -> dict[str, Any]:
        entry = self.media.get(p.int(key))
        if entry is None:
            raise ResultCode("ERROR", "Directory does not exist.")
        return entry

    def set_value(self, node: dict[str, Any], name: str, value: str) -> None:
        kind = self.custom_fields.get(name)
        if kind is None:
            raise ResultCode(
                "CUSTOMFIELD_FIELD_DOES_NOT_EXIST", "No such field.", in_data(element("field", name=name))
            )
        valid = {
            "int": r"-?\d+",
            "bool": r"true|false",
            "datetime": r"\d{4}-\d\d-\d\d( \d\d:\d\d(:\d\d)?)?",
            "string": r"(?s).*",
        }[kind]
        if not re.fullmatch(valid, value):
            raise ResultCode(
                "CUSTOMFIELD_INVALID_DATA_FORMAT",
                f"{value!r} is not a {kind}.",
                in_data(element("field", name=name)),
            )
        node["fields"][name] = value

    def below(self, root_id: int) -> list[dict[str, Any]]:
        root = self.nodes.get(root_id)
        if root is None:
            raise ResultCode("PAPER_DOES_NOT_EXIST", "The requested iPaper does not exist.")
        found, frontier = [], [root["id"]]
        while frontier:
            current = frontier.pop()
            for node in self.nodes.values():
                if node["parent"] == current:
                    found.append(node)
                    frontier.append(node["id"])
        return found + ([root] if not root["category"] else [])

    def days(self, p: FormParams) -> tuple[dict[str, Any], list[date]]:
        node = self.paper(p)
        try:
            start, end = date.fromisoformat(p.required("from")), date.fromisoformat(p.required("to"))
        except ValueError:
            raise ResultCode("ERROR", "Dates must be YYYY-MM-DD.") from None
        return node, [start + timedelta(days=n) for n in range((end - start).days + 1)][:3660]

    def pageviews(self, node_id: int, day: date) -> int:
        """Return a paper's page views on a day: made up, the same on every call."""
        return self._daily_count(node_id, day, "v")

    def visitors(self, node_id: int, day: date) -> int:
        """Return a paper's visitors on a day: made up, the same on every call."""
        return self._daily_count(node_id, day, "s") // 3

    @staticmethod
    def _daily_count(node_id: int, day: date, salt: str) -> int:
        return int(hashlib.sha256(f"{node_id}{day}{salt}".encode()).hexdigest()[:4], 16) % 120
