"""flipbook-doctor: check the assumptions of ``docs/vendor-conformance.md`` against your own account.

Usage::

    flipbook-doctor --conn-id ID [--conn-id ID ...] [--json] [--write-test]
    python -m airflow_provider_flipbook.doctor --conn-id ID ...

Each connection is loaded the way tasks load it (so ``AIRFLOW_CONN_*`` variables work) and probed
with read-only calls through the hook's own transport (pacing, retries, redaction). Every check
reports ``holds``, ``differs`` or ``not checked`` with the shape it saw: keys, element names and
counts, never values. ``--write-test`` also creates and deletes one tiny object (FlippingBook: a
publication without a source, which the vendor keeps in a "deleted" state for a while before
removing it; Flipsnack: a one-page collection, which uses one of the account's monthly API uploads
even once deleted; iPaper: a paper under the root, processed twice from a one-page PDF (to see whether
a rerun keeps the page ids), deleted once the jobs have left the processing list; Papyrs: an empty
page).

Exit status: 0 when everything checked holds, 2 when an assumption differs, 1 on an error (unknown
connection, unreachable vendor, a bug).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from airflow_provider_flipbook.exceptions import RateLimitError, TransientApiError, VendorApiError

HOLDS, DIFFERS, NOT_CHECKED, ERROR = "holds", "differs", "not checked", "error"
RATE_HEADER = re.compile(r"^(x-)?rate-?limit|^retry-after$", re.IGNORECASE)
LIMIT_HEADER = re.compile(r"^(x-)?rate-?limit-?limit$", re.IGNORECASE)
JOB_GUID = re.compile(r"job.?guid", re.IGNORECASE)  # the name rule the iPaper hook reads a GUID by

# The assumption ids each vendor's checks report, in order; docs/vendor-conformance.md lists the same.
CHECK_IDS: dict[str, tuple[str, ...]] = {
    "flippingbook": (
        "auth",
        "envelope",
        "publication_fields",
        "paging",
        "source_fields",
        "custom_domain",
        "rate_limit",
        "write_test",
    ),
    "flipsnack": (
        "auth",
        "envelope",
        "user_stats",
        "list_fields",
        "paging",
        "items",
        "rate_limit",
        "write_test",
    ),
    "ipaper": (
        "auth",
        "envelope",
        "root_paper",
        "tree",
        "method_names",
        "processing_list",
        "rate_limit",
        "job_guid",
        "page_ids",
    ),
    "papyrs": (
        "auth",
        "list_shape",
        "page_json",
        "error_envelope",
        "records_paging",
        "rate_limit",
        "write_test",
    ),
}
WRITE_CHECKS = {"write_test", "job_guid", "page_ids"}


@dataclass
class Check:
    """One assumption of the conformance table, as checked against an account."""

    id: str
    status: str
    seen: str


@dataclass
class Report:
    """Every check for one connection: what held, what differed, what could not be checked."""

    conn_id: str
    vendor: str = ""
    base_url: str = ""
    checks: list[Check] = field(default_factory=list)


def keys(value: Any) -> str:
    """The shape of a JSON value: sorted keys of an object, or the length and item keys of a list."""
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    if isinstance(value, list):
        return f"list of {len(value)}" + (
            f" of {keys(value[0])}" if value and isinstance(value[0], dict) else ""
        )
    return type(value).__name__


class Recorder:
    """Keeps the last answer (overall and per URL path) and the rate-limit headers the hook receives."""

    def __init__(self, hook: Any) -> None:
        self.last: requests.Response | None = None
        self.by_path: dict[str, requests.Response] = {}
        self.rate_headers: dict[str, str] = {}
        hook.session.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = self.by_path[urlsplit(response.url).path] = response
        self.rate_headers.update({k.lower(): v for k, v in response.headers.items() if RATE_HEADER.search(k)})

    def json(self) -> Any:
        try:
            return self.last.json() if self.last is not None else None
        except ValueError:
            return None


class Doctor:
    """Runs one vendor's checks for one connection; each check returns ``(status, seen)``."""

    def __init__(self, hook: Any, write_test: bool) -> None:
        self.hook, self.write_test = hook, write_test
        self.rec = Recorder(hook)
        self.ctx: dict[str, Any] = {}
        self.checks: list[Check] = []

    def run(self) -> list[Check]:
        vendor = self.hook.conn_type
        for name in CHECK_IDS[vendor]:
            if name in WRITE_CHECKS and not self.write_test:
                self.checks.append(Check(f"{vendor}.{name}", NOT_CHECKED, "needs --write-test"))
                continue
            self.checks.append(Check(f"{vendor}.{name}", *self.attempt(getattr(self, f"{vendor}_{name}"))))
        return self.checks

    def attempt(self, check: Callable[[], tuple[str, str]]) -> tuple[str, str]:
        try:
            return check()
        except (TransientApiError, RateLimitError) as error:  # the vendor did not answer: nothing learnt
            return ERROR, str(error)
        except VendorApiError as error:  # the vendor answered, not as assumed
            return DIFFERS, str(error)
        except Exception as error:  # a bug or a broken connection: say so, without a traceback
            return ERROR, f"{type(error).__name__}: {error}"

    def rate_limit(self) -> tuple[str, str]:
        limits = self.hook.default_limits  # as documented, before any speed-up or extra rate_limit
        documented = max((getattr(limit, "calls", 0) or getattr(limit, "burst", 0)) for limit in limits)
        described = ", ".join(
            f"{w.calls} per {w.period:g} s" if hasattr(w, "calls") else f"burst {w.burst} then {w.rate:g}/s"
            for w in limits
        )
        if not self.rec.rate_headers:
            return HOLDS, f"no rate-limit headers; pacing at the documented {described}"
        names = ", ".join(sorted(self.rec.rate_headers))
        announced = [
            int(m.group())
            for k, v in self.rec.rate_headers.items()
            if LIMIT_HEADER.search(k) and (m := re.search(r"\d+", v))
        ]
        if announced and min(announced) < documented:
            return DIFFERS, (
                f"headers {names} announce a limit of {min(announced)} below the documented "
                f"{documented}: set the connection extra rate_limit"
            )
        return HOLDS, f"headers seen: {names}; none announces less than the documented {documented}"

    # -- FlippingBook -----------------------------------------------------------------------------

    def _publications(self, count: int, offset: int) -> dict[str, Any]:
        return self.hook.call(
            "GET",
            "/api/v1/fbonline/publication",
            params={"count": count, "offset": offset},
            operation="publication.list",
        )

    def flippingbook_auth(self) -> tuple[str, str]:
        me = self.hook.me()
        return (HOLDS if "id" in me else DIFFERS), f"auth/me {keys(me)}"

    def flippingbook_envelope(self) -> tuple[str, str]:
        body = self.ctx["list"] = self._publications(2, 0)
        return (HOLDS if body.get("success") is True else DIFFERS), f"publication.list {keys(body)}"

    def flippingbook_publication_fields(self) -> tuple[str, str]:
        publications = self.ctx.get("list", {}).get("publications") or []
        if not publications:
            return NOT_CHECKED, "the account has no publication"
        first = publications[0]
        missing = {"id", "hashId", "name", "state", "totalPages"} - set(first)
        if "canonicalLink" not in first and "url" not in first:
            missing.add("canonicalLink")
        return (DIFFERS if missing else HOLDS), f"publication {keys(first)}" + (
            f"; missing {sorted(missing)}" if missing else ""
        )

    def flippingbook_paging(self) -> tuple[str, str]:
        if len(self.ctx.get("list", {}).get("publications") or []) < 2:
            return NOT_CHECKED, "fewer than two publications"
        first, second = (self._publications(1, offset).get("publications") or [] for offset in (0, 1))
        total = "total present" if "total" in self.ctx["list"] else "no total"
        return _two_pages(first, second, "id", "count=1", "offset=1", total)

    def flippingbook_source_fields(self) -> tuple[str, str]:
        publications = self.ctx.get("list", {}).get("publications") or []
        if not publications:
            return NOT_CHECKED, "the account has no publication"
        sources = self.hook.list_sources(publications[0]["id"])
        if not sources:
            return NOT_CHECKED, "the first publication has no source"
        source = sources[0]
        missing = {"id", "state"} - set(source)
        if "Progress" not in source and "progress" not in source:
            missing.add("Progress")
        return (DIFFERS if missing else HOLDS), f"source {keys(source)}" + (
            f"; missing {sorted(missing)}" if missing else ""
        )

    def flippingbook_custom_domain(self) -> tuple[str, str]:
        body = self.hook.list_custom_domains()
        if not {"customDomainsEnabled", "customDomains"} <= set(body):
            return DIFFERS, f"custom-domains {keys(body)}"
        enabled = "on" if body.get("customDomainsEnabled") else "off"
        return HOLDS, (
            f"custom-domains {keys(body)}; custom domains {enabled} "
            f"({len(body.get('customDomains') or [])} domain(s))"
        )

    def flippingbook_rate_limit(self) -> tuple[str, str]:
        return self.rate_limit()

    def flippingbook_write_test(self) -> tuple[str, str]:
        created = self.hook.create_publication(name="flipbook-doctor write test")
        self.hook.delete_publication(created["id"])
        # The vendor only marks it deleted; it is removed for good after a while (documented).
        return (
            HOLDS,
            f"created {keys(created)} and deleted it (kept in a 'deleted' state for a while by the vendor)",
        )

    # -- Flipsnack --------------------------------------------------------------------------------

    def _collections(self, start: int, end: int) -> dict[str, Any]:
        return self.hook.call("collection.getList", **{"from": start, "to": end}) or {}

    def flipsnack_auth(self) -> tuple[str, str]:
        self.ctx["stats"] = self.hook.user_stats()
        self.ctx["envelope"] = self.rec.json()
        return HOLDS, "user.getStats answered code 20"

    def flipsnack_envelope(self) -> tuple[str, str]:
        body = self.ctx.get("envelope")
        ok = isinstance(body, dict) and {"code", "status", "data"} <= set(body) and str(body["code"]) == "20"
        return (HOLDS if ok else DIFFERS), f"user.getStats {keys(body)}"

    def flipsnack_user_stats(self) -> tuple[str, str]:
        stats = self.ctx.get("stats") or {}
        return (HOLDS if "api_uploads_left" in stats else DIFFERS), f"data {keys(stats)}"

    def flipsnack_list_fields(self) -> tuple[str, str]:
        data = self.ctx["list"] = self._collections(0, 1)
        ok = isinstance(data.get("collections"), list) and "collectionCount" in data
        return (HOLDS if ok else DIFFERS), f"collection.getList data {keys(data)}"

    def flipsnack_paging(self) -> tuple[str, str]:
        if len(self.ctx.get("list", {}).get("collections") or []) < 2:
            return NOT_CHECKED, "fewer than two collections"
        first, second = (self._collections(i, i).get("collections") or [] for i in (0, 1))
        return _two_pages(first, second, "collectionHash", "from=0,to=0", "from=1,to=1", "inclusive range")

    def flipsnack_items(self) -> tuple[str, str]:
        collections = self.ctx.get("list", {}).get("collections") or []
        if not collections:
            return NOT_CHECKED, "the account has no collection"
        collection = self.hook.get_collection(collections[0]["collectionHash"])
        key = next((k for k in ("items", "flipbooks") if isinstance(collection.get(k), list)), None)
        if key is None:
            return DIFFERS, f"collection {keys(collection)}: no item list under items or flipbooks"
        statuses = {str(item.get("status", "")).lower() for item in collection[key] if isinstance(item, dict)}
        ok = bool(statuses) and statuses <= {"processing", "complete", "failed"}
        return (HOLDS if ok else DIFFERS), (
            f"collection {keys(collection)}; {key} {keys(collection[key])}; statuses {sorted(statuses)}"
        )

    def flipsnack_rate_limit(self) -> tuple[str, str]:
        return self.rate_limit()

    def flipsnack_write_test(self) -> tuple[str, str]:
        with tiny_pdf() as path:
            created = self.hook.create_collection(
                open_file=lambda: open(path, "rb"),
                filename="flipbook-doctor.pdf",
                title="flipbook-doctor write test",
            )
        collection_hash = created["collectionHash"]
        try:
            self.hook.delete_collection(collection_hash)
        except VendorApiError as error:
            return (
                DIFFERS,
                f"created collection {collection_hash} but could not delete it ({error}): delete it by hand",
            )
        return HOLDS, f"created {keys(created)} and deleted it (one monthly upload used)"

    # -- iPaper -----------------------------------------------------------------------------------

    def ipaper_auth(self) -> tuple[str, str]:
        self.ctx["root"] = self.hook.get_paper_id_from_url("/")
        self.ctx["envelope"] = self.rec.last.content if self.rec.last is not None else b""
        return (
            HOLDS,
            f"Paper.GetPaperIDFromUrl answered SUCCESS (credential fields: {self.hook.setting('credential_fields')})",
        )

    def ipaper_envelope(self) -> tuple[str, str]:
        from airflow_provider_flipbook.hooks.ipaper import parse_xml

        root = parse_xml(self.ctx["envelope"])
        children = [str(child.tag) for child in root]
        ok = root.tag == "result" and {"code", "message"} <= set(children)
        return (HOLDS if ok else DIFFERS), f"<{root.tag}> with {children}"

    def ipaper_root_paper(self) -> tuple[str, str]:
        found, configured = self.ctx.get("root"), self.hook.setting("root_paper_id")
        try:
            self.hook.call("Paper.GetAllPapers", paperID=0)  # on the wire: the hook may map 0 to the root
            zero = "paperID=0 accepted"
        except VendorApiError as error:
            zero = f"paperID=0 refused (code {error.code})"
        if configured not in (None, ""):
            self.ctx["root_id"] = int(configured)
            if found is not None and found != int(configured):
                return DIFFERS, f"extra root_paper_id={configured} but URL / is paper {found}; {zero}"
            return HOLDS, f"extra root_paper_id={configured}; URL / is paper {found}; {zero}"
        if found is None:
            return DIFFERS, f"no paper or category has URL /: set the connection extra root_paper_id; {zero}"
        self.ctx["root_id"] = found
        return HOLDS, f"URL / is paper {found} (extra root_paper_id not set); {zero}"

    def ipaper_tree(self) -> tuple[str, str]:
        if "root_id" not in self.ctx:
            return NOT_CHECKED, "no root id"
        data = self.hook.call("Paper.GetAllPapers", paperID=self.ctx["root_id"])
        nodes = [n for n in data.iter() if n is not data and isinstance(n.tag, str)]
        tags = sorted({str(n.tag) for n in nodes})
        bad = [
            n
            for n in nodes
            if n.tag not in ("category", "paper") or not {"id", "name", "url"} <= set(n.keys())
        ]
        attributes = sorted({a for n in nodes for a in n.keys()})
        return (DIFFERS if bad or not nodes else HOLDS), f"elements {tags}; attributes {attributes}"

    def ipaper_method_names(self) -> tuple[str, str]:
        try:
            self.hook.call(
                "Search.SearchPapersByCustomFields",
                categoryID=self.ctx.get("root_id", 0),
                xmlOptions="<options><customfieldcriterias /></options>",
            )
        except VendorApiError as error:
            if error.code and (error.status or 200) < 400:
                return HOLDS, f"Search.SearchPapersByCustomFields exists (answered {error.code})"
            raise
        return HOLDS, "Search.SearchPapersByCustomFields exists (answered SUCCESS)"

    def ipaper_processing_list(self) -> tuple[str, str]:
        processes = self.hook.get_processing_papers()
        if not processes:
            return NOT_CHECKED, "nothing is processing"
        attributes = sorted({a for p in processes for a in p})
        ok = all({"paper-id", "progress"} <= set(p) for p in processes)
        return (HOLDS if ok else DIFFERS), f"{len(processes)} <process> with attributes {attributes}"

    def ipaper_rate_limit(self) -> tuple[str, str]:
        return self.rate_limit()

    def _process_and_wait(self, paper_id: int, path: str, before: list[str]) -> tuple[bytes, list[str]]:
        """ProcessPDF, then wait (2 minutes at most) until the job has left the processing list and the
        pages changed; returns the ProcessPDF answer and the page ids after the run."""
        self.hook.process_pdf(paper_id, lambda: open(path, "rb"))
        processed = self.rec.by_path.get(urlsplit(self.hook.base_url).path + "/V2/Ripper.asmx/ProcessPDF")
        answer = processed.content if processed is not None else b""
        pages, deadline, seen_busy = before, time.monotonic() + 120, False
        while time.monotonic() < deadline:
            busy = any(p.get("paper-id") == str(paper_id) for p in self.hook.get_processing_papers())
            seen_busy |= busy
            pages = [str(i) for i in self.hook.get_paper_structure(paper_id).xpath("paper/pages/page/@id")]
            if (
                not busy and pages and (pages != before or seen_busy)
            ):  # done: new pages, or the job came and went
                break
            time.sleep(1)
        return answer, pages

    def ipaper_job_guid(self) -> tuple[str, str]:
        """The write test: a paper under the root, the same one-page PDF processed twice, then deleted."""
        if "root_id" not in self.ctx:
            return NOT_CHECKED, "no root id to create the test paper under"
        from airflow_provider_flipbook.hooks.ipaper import parse_xml

        suffix = uuid.uuid4().hex[:8]
        paper_id = self.hook.create_paper(
            self.ctx["root_id"], f"flipbook-doctor {suffix}", f"flipbook-doctor-{suffix}"
        )
        try:
            with tiny_pdf() as path:
                answer, first = self._process_and_wait(paper_id, path, [])
                self.ctx["page_ids"] = (first, self._process_and_wait(paper_id, path, first)[1])
        finally:
            self.hook.delete_paper(paper_id)
        # The answer itself, not process_pdf's return value (a GUID, or a marker the hook makes up without one).
        data = parse_xml(answer).find("data")
        elements = [str(n.tag) for n in data.iter() if n is not data] if data is not None else []
        if any(JOB_GUID.search(tag) for tag in elements):
            return DIFFERS, (
                f"ProcessPDF answered a job GUID ({', '.join(elements)}; the document shows none): "
                "the hooks follow it with Ripper.GetProcessingStatus"
            )
        return HOLDS, f"ProcessPDF answered SUCCESS with {elements or 'no data'}, as documented"

    def ipaper_page_ids(self) -> tuple[str, str]:
        if "page_ids" not in self.ctx:
            return NOT_CHECKED, "the write test did not get as far as processing"
        first, second = self.ctx["page_ids"]
        if not first or not second:
            return (
                DIFFERS,
                f"the paper had {len(first)} then {len(second)} pages after its runs left the processing list",
            )
        if first == second:
            return DIFFERS, (
                "a second run of the same PDF kept the page ids: without a job GUID the hooks would "
                "report an identical re-upload as failed after processing_appear_timeout"
            )
        return HOLDS, f"each run gave new page ids ({len(first)} page(s))"

    # -- Papyrs -----------------------------------------------------------------------------------

    def papyrs_auth(self) -> tuple[str, str]:
        self.ctx["pages"] = self.hook.list_pages()
        return (
            HOLDS,
            f"pages/all answered HTTP {self.rec.last.status_code if self.rec.last is not None else '?'}",
        )

    def papyrs_list_shape(self) -> tuple[str, str]:
        pages = self.ctx.get("pages")
        ok = isinstance(pages, list) and all(isinstance(p, dict) and {"id", "title"} <= set(p) for p in pages)
        return (HOLDS if ok else DIFFERS), f"pages/all {keys(pages)}"

    def papyrs_page_json(self) -> tuple[str, str]:
        pages = self.ctx.get("pages") or []
        if not pages:
            return NOT_CHECKED, "the subsite has no page"
        page = self.hook.get_page(pages[0]["id"])
        columns = page.get("json")
        ok = isinstance(columns, list) and all(
            isinstance(column, list) and all(isinstance(w, dict) for w in column) for column in columns
        )
        widgets = [w for column in columns for w in column] if ok else []
        return (HOLDS if ok else DIFFERS), (
            f"page {keys(page)}; json {keys(columns)}" + (f"; widgets {keys(widgets)}" if widgets else "")
        )

    def papyrs_error_envelope(self) -> tuple[str, str]:
        try:
            self.hook.get_page("999999999999")
        except VendorApiError as error:
            body = self.rec.json()
            ok = error.status == 404 and isinstance(body, dict) and {"error", "status"} <= set(body)
            return (HOLDS if ok else DIFFERS), f"HTTP {error.status} with {keys(body)}"
        return DIFFERS, "a page id that cannot exist answered 2xx"

    def papyrs_records_paging(self) -> tuple[str, str]:
        pages = self.ctx.get("pages") or []
        if not pages:
            return NOT_CHECKED, "the subsite has no page"

        def records(number: int) -> Any:
            return self.hook.call(
                "GET",
                f"pages/records/{pages[0]['id']}/",
                operation="pages.records",
                params={"page": number, "items_per_page": 1},
            )

        first = records(0)
        if not isinstance(first, list):
            return DIFFERS, f"pages/records {keys(first)}, not a list"
        if len(first) > 1:
            return DIFFERS, f"items_per_page=1 answered {len(first)} records: the page size is ignored"
        if not first:
            return NOT_CHECKED, "the first page has no form record"
        second = records(1)
        if not second:
            return NOT_CHECKED, "the first page has a single form record"
        return (
            (DIFFERS, "page=1 answered the same record as page=0: page is ignored")
            if second == first
            else (HOLDS, f"page size 1 honoured; page=0 and page=1 differ; record {keys(first[0])}")
        )

    def papyrs_rate_limit(self) -> tuple[str, str]:
        return self.rate_limit()

    def papyrs_write_test(self) -> tuple[str, str]:
        created = self.hook.create_page("flipbook-doctor write test", [[]])
        self.hook.delete_page(created["id"])
        return HOLDS, f"created {keys(created)} and deleted it"


def _two_pages(first: list, second: list, key: str, size: str, offset: str, extra: str) -> tuple[str, str]:
    if len(first) != 1:
        return DIFFERS, f"{size} answered {len(first)} items: the page size is not honoured"
    if len(second) != 1:
        return DIFFERS, f"{offset} answered {len(second)} items though there are two or more"
    if first[0].get(key) == second[0].get(key):
        return DIFFERS, f"{offset} answered the same item as the first page: the offset is ignored"
    return HOLDS, f"{size} gave one item, {offset} a different one; {extra}"


class tiny_pdf:  # noqa: N801 - used like a function: ``with tiny_pdf() as path``
    """A one-page PDF in a temporary folder, removed afterwards."""

    def __enter__(self) -> str:
        from airflow_provider_flipbook.utils.pdf import make_sample_pdf

        self._folder = tempfile.TemporaryDirectory(prefix="flipbook-doctor-")
        path = str(Path(self._folder.name) / "flipbook-doctor.pdf")
        make_sample_pdf(path, 1, "flipbook-doctor")
        return path

    def __exit__(self, *exc: Any) -> None:
        self._folder.cleanup()


def diagnose(conn_id: str, write_test: bool = False) -> tuple[Report, Callable[[str], str]]:
    """Run every check for one connection; returns the report and the connection's redaction."""
    from airflow_provider_flipbook.hooks import HOOKS, hook_for

    report = Report(conn_id)
    try:
        hook = hook_for(conn_id, vendors=tuple(HOOKS))
        report.vendor, report.base_url = hook.conn_type, hook.base_url
    except Exception as error:
        report.checks.append(Check(f"{conn_id}.connection", ERROR, f"{type(error).__name__}: {error}"))
        return report, lambda text: text
    report.checks = Doctor(hook, write_test).run()
    return report, hook.redact


def exit_code(reports: Sequence[Report]) -> int:
    statuses = {check.status for report in reports for check in report.checks}
    return 2 if DIFFERS in statuses else 1 if ERROR in statuses else 0


def render(reports: Sequence[Report]) -> str:
    lines = []
    for report in reports:
        lines.append(
            f"{report.conn_id} ({report.vendor or 'unknown'}{', ' + report.base_url if report.base_url else ''})"
        )
        width = max(len(c.id) for c in report.checks)
        lines += [f"  {c.id:<{width}}  {c.status:<11}  {c.seen}" for c in report.checks]
    counts = {
        s: sum(c.status == s for r in reports for c in r.checks) for s in (HOLDS, DIFFERS, NOT_CHECKED, ERROR)
    }
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flipbook-doctor", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--conn-id", action="append", required=True, help="Airflow connection id (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument(
        "--write-test",
        action="store_true",
        help="also create and delete one tiny object per connection (see the module doc)",
    )
    args = parser.parse_args(argv)
    reports: list[Report] = []
    redactions: list[Callable[[str], str]] = []
    for conn_id in args.conn_id:
        report, redaction = diagnose(conn_id, args.write_test)
        reports.append(report)
        redactions.append(redaction)

    def redact(text: str) -> str:  # every connection's secrets, whichever report the text is in
        for one in redactions:
            text = one(text)
        return text

    for report in reports:  # before JSON encoding, which could escape a secret past a plain replace
        report.base_url = redact(report.base_url)
        for check in report.checks:
            check.seen = redact(check.seen)
    code = exit_code(reports)
    if args.json:
        print(redact(json.dumps({"exit_code": code, "connections": [asdict(r) for r in reports]}, indent=2)))
    else:
        print(redact(render(reports)))
    return code


if __name__ == "__main__":
    sys.exit(main())
