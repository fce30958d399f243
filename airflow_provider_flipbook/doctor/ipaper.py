"""iPaper: the assumptions of ``docs/vendor-conformance.md`` checked against an account."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from airflow_provider_flipbook.doctor.checks import (
    AccountAnswers,
    NotChecked,
    Outcome,
    announced_limits,
    answer,
    differs,
    holds,
    not_checked,
    tiny_pdf,
    verdict,
)
from airflow_provider_flipbook.exceptions import VendorApiError
from airflow_provider_flipbook.hooks.ipaper import _JOB_GUID, IPaperHook, parse_xml

REFUSED_CODES = {"LOGIN_SECURITY_VIOLATION"}
TWO_FACTOR_HINT = (
    "iPaper refuses users with two-factor authentication on its API: only the API-key mode works for "
    "them (login 'APIKey', password an API key made in the iPaper admin's account settings). Otherwise "
    "check the login and password, and the extra credential_fields (default: both pairs of field names)."
)


class Account(AccountAnswers[IPaperHook]):
    """The answers the checks read, each fetched once, at first use."""

    @answer
    def root_lookup(self) -> tuple[int | None, bytes]:
        """``Paper.GetPaperIDFromUrl("/")``: the id found (None: no data) and the answer as sent."""
        found = self.hook.get_paper_id_from_url("/")
        self.log.observe("ipaper.root_paper", "url" if found is not None else "missing")
        return found, self.log.last.content if self.log.last is not None else b""

    @answer
    def root_id(self) -> int:
        """Fetch the root the hooks use: the extra ``root_paper_id``, else the id of URL ``/``."""
        configured = self.hook.setting("root_paper_id")
        if configured is not None:
            return int(configured)
        found = self.root_lookup[0]
        if found is None:
            raise NotChecked("no root: no paper has URL / and the extra root_paper_id is not set")
        return found

    @answer
    def tree(self) -> Any:
        """``Paper.GetAllPapers`` of the root, the ``<data>`` element."""
        return self.hook.call("Paper.GetAllPapers", paperID=self.root_id)

    @answer
    def rerun(self) -> tuple[bytes, list[str], list[str]]:
        """Run the write test: a paper under the root, the same one-page PDF processed twice, then deleted.

        The first ProcessPDF answer as sent, and the page ids after each run.
        """
        suffix = uuid.uuid4().hex[:8]
        paper_id = self.hook.create_paper(
            self.root_id, f"flipbook-doctor {suffix}", f"flipbook-doctor-{suffix}"
        )
        try:
            with tiny_pdf() as path:
                answered, first = self._process_and_wait(paper_id, path, [])
                second = self._process_and_wait(paper_id, path, first)[1]
        finally:
            self.hook.delete_paper(paper_id)
        return answered, first, second

    def _process_and_wait(self, paper_id: int, path: str, before: list[str]) -> tuple[bytes, list[str]]:
        """Run ProcessPDF, then wait (2 minutes at most) for the run to end.

        The run has ended when the job has left the processing list and the pages changed. Returns the
        ProcessPDF answer as sent and the page ids after the run.
        """
        self.hook.process_pdf(paper_id, lambda: open(path, "rb"))
        answered = self.log.last.content if self.log.last is not None else b""
        pages, deadline, seen_busy = before, time.monotonic() + 120, False
        while time.monotonic() < deadline:
            busy = any(p.get("paper-id") == str(paper_id) for p in self.hook.get_processing_papers())
            seen_busy |= busy
            pages = [str(i) for i in self.hook.get_paper_structure(paper_id).xpath("paper/pages/page/@id")]
            if not busy and pages and (pages != before or seen_busy):  # new pages, or the job came and went
                break
            time.sleep(1)
        return answered, pages


def credentials_refused(error: VendorApiError) -> str | None:
    """Advice when ``error`` means the login was refused (``LOGIN_SECURITY_VIOLATION``), else None."""
    return TWO_FACTOR_HINT if error.code in REFUSED_CODES else None


def account_refused(error: VendorApiError, accepted: bool) -> str | None:
    """Return advice when the account refused, else None.

    Refused: ``LICENSE_DOES_NOT_ALLOW_PROCESSING``, or ``LOGIN_SECURITY_VIOLATION`` ("auth or permission
    failure") after the login was accepted.

    :param error: what the call raised
    :param accepted: an earlier call was answered (so the login itself is good)
    """
    if error.code == "LICENSE_DOES_NOT_ALLOW_PROCESSING":
        return "The iPaper licence allows no further PDF processing: upgrade it with iPaper."
    if error.code in REFUSED_CODES and accepted:
        return (
            "The login was accepted by an earlier call, so the user lacks the rights for this one: give "
            "the API user full rights in the iPaper admin, or use the API-key mode (login 'APIKey')."
        )
    return None


def auth(account: Account) -> Outcome:
    """Check that the login and password, in the form fields ``credential_fields`` names, are accepted."""
    account.root_lookup  # noqa: B018 - the call is the check: a refusal raises
    fields = account.hook.setting("credential_fields")
    return holds(f"Paper.GetPaperIDFromUrl answered SUCCESS (credential fields: {fields})")


def envelope(account: Account) -> Outcome:
    """Answers are ``<result>`` with ``<code>`` and ``<message>`` (and ``<data>`` when there is data)."""
    root = parse_xml(account.root_lookup[1])
    children = [str(child.tag) for child in root]
    return verdict(
        root.tag == "result" and {"code", "message"} <= set(children), f"<{root.tag}> with {children}"
    )


def root_paper(account: Account) -> Outcome:
    """Check that the account root is the category at URL ``/``; it matches ``root_paper_id`` if set.

    ``root_paper_id`` is the extra. Whether ``paperID=0`` is accepted is reported (the hooks never send
    it).
    """
    found, configured = account.root_lookup[0], account.hook.setting("root_paper_id")
    try:
        account.hook.call("Paper.GetAllPapers", paperID=0)
        zero = "paperID=0 accepted"
    except VendorApiError as error:
        zero = f"paperID=0 refused (code {error.code})"
    if configured is not None:
        if found is not None and found != int(configured):
            return differs(f"extra root_paper_id={configured} but URL / is paper {found}; {zero}")
        return holds(f"extra root_paper_id={configured}; URL / is paper {found}; {zero}")
    if found is None:
        return differs(f"no paper or category has URL /: set the connection extra root_paper_id; {zero}")
    return holds(f"URL / is paper {found} (extra root_paper_id not set); {zero}")


def tree(account: Account) -> Outcome:
    """``GetAllPapers`` of the root answers ``<category>``/``<paper>`` elements with ``id``, ``name``, ``url``."""
    data = account.tree
    nodes = [n for n in data.iter() if n is not data and isinstance(n.tag, str)]
    tags = sorted({str(n.tag) for n in nodes})
    bad = [
        n for n in nodes if n.tag not in ("category", "paper") or not {"id", "name", "url"} <= set(n.keys())
    ]
    attributes = sorted({a for n in nodes for a in n.keys()})
    return verdict(bool(nodes) and not bad, f"elements {tags}; attributes {attributes}")


def method_names(account: Account) -> Outcome:
    """``Search.SearchPapersByCustomFields`` (plural) exists: empty criteria answer a search code."""
    try:
        account.hook.call(
            "Search.SearchPapersByCustomFields",
            categoryID=account.root_id,
            xmlOptions="<options><customfieldcriterias /></options>",
        )
    except VendorApiError as error:
        if error.code and (error.status or 200) < 400:
            return holds(f"Search.SearchPapersByCustomFields exists (answered {error.code})")
        raise
    return holds("Search.SearchPapersByCustomFields exists (answered SUCCESS)")


def search_fields(account: Account) -> Outcome:
    """Check that searching by name answers ``<paper paperID name url parentID category>`` rows.

    ``category="True"`` marks categories (the hooks read ``paperID`` and skip categories).
    """
    papers = [n for n in account.tree.iter("paper")]
    if not papers:
        raise NotChecked("no paper below the root to search for")
    paper = papers[0]
    rows = account.hook.search_by_name(paper.get("name") or "", account.root_id)
    attributes = sorted({a for row in rows for a in row})
    mine = [row for row in rows if row.get("paperID") == paper.get("id")]
    if not mine:
        return differs(
            f"searching a paper's own name answered {len(rows)} row(s) with attributes {attributes}, "
            "none with its id under paperID"
        )
    return verdict(
        mine[0].get("category") in ("False", "false"),
        f"rows with attributes {attributes}; the paper's row has category={mine[0].get('category')!r}",
    )


def custom_field_value(account: Account) -> Outcome:
    """Check that ``GetCustomFieldValue`` answers one of the shapes the hooks read.

    Its page's sample is a copy of the definitions answer. The shapes: a ``<field name>`` with its value
    as text or attribute, a ``<value>``, or bare text; read on the first paper and the first defined
    field.
    """
    papers = list(account.tree.iter("paper"))
    if not papers:
        raise NotChecked("no paper below the root to read a custom field of")
    fields = account.hook.get_custom_field_definitions()
    if not fields:
        raise NotChecked("the account defines no custom field")
    name = sorted(fields)[0]
    account.hook.get_custom_field_value(int(papers[0].get("id") or 0), name)  # an unknown shape raises
    data = parse_xml(account.log.last.content if account.log.last is not None else b"").find("data")
    elements = sorted({str(n.tag) for n in data.iter() if n is not data}) if data is not None else []
    return holds(f"a field's value read from {elements or 'the text of <data>'}")


def processing_list(account: Account) -> Outcome:
    """``GetProcessingPapers`` lists running jobs as ``<process paper-id progress>``."""
    processes = account.hook.get_processing_papers()
    if not processes:
        return not_checked("nothing is processing")
    attributes = sorted({a for p in processes for a in p})
    ok = all({"paper-id", "progress"} <= set(p) for p in processes)
    return verdict(ok, f"{len(processes)} <process> with attributes {attributes}")


def viewer_base_url(account: Account) -> Outcome:
    """Check that a paper's public page is the extra ``viewer_base_url`` and the path iPaper answers.

    That page is the "View flipbook" link tasks show: the first paper's page opens. Unset, tasks show no
    link.
    """
    hook = account.hook
    if hook.viewer_base_url is None:
        raise NotChecked(
            "the connection sets no viewer_base_url, so tasks show no flipbook link: set that extra to "
            "your iPaper viewer's address (e.g. https://<account>.ipapercms.dk)"
        )
    paper = next(account.tree.iter("paper"), None)
    if paper is None:
        raise NotChecked("no paper below the root")
    url = hook.public_url(paper.get("url", ""), int(paper.get("id", 0)))
    try:  # the viewer is public: a plain GET, no credential
        status = requests.get(url or "", timeout=hook.timeout).status_code
    except requests.RequestException as error:
        return differs(f"the first paper's viewer page did not answer ({type(error).__name__})")
    return verdict(status < 400, f"the first paper's viewer page answered HTTP {status}")


def rate_limit(account: Account) -> Outcome:
    """No rate-limit header announces less than the documented 50 per minute (we pace at 48)."""
    return announced_limits(account.hook, account.log.rate_headers)


def job_guid(account: Account) -> Outcome:
    """``ProcessPDF`` answers as documented: SUCCESS with no job GUID."""
    data = parse_xml(account.rerun[0]).find("data")
    elements = [str(n.tag) for n in data.iter() if n is not data] if data is not None else []
    if any(_JOB_GUID.search(tag) for tag in elements):
        return differs(
            f"ProcessPDF answered a job GUID ({', '.join(elements)}; the document shows none): "
            "the hooks follow it with Ripper.GetProcessingStatus"
        )
    return holds(f"ProcessPDF answered SUCCESS with {elements or 'no data'}, as documented")


def page_ids(account: Account) -> Outcome:
    """Check that a rerun of a paper gives new page ids.

    So a GUID-less status tells a finished run from a failed one.
    """
    _, first, second = account.rerun
    if not first or not second:
        return differs(
            f"the paper had {len(first)} then {len(second)} pages after its runs left the processing list"
        )
    account.log.observe("ipaper.page_ids", "kept" if first == second else "fresh")
    if first == second:
        return differs(
            "a second run of the same PDF kept the page ids: without a job GUID the hooks would "
            "report an identical re-upload as failed after processing_appear_timeout"
        )
    return holds(f"each run gave new page ids ({len(first)} page(s))")


CHECKS = (
    auth,
    envelope,
    root_paper,
    tree,
    method_names,
    search_fields,
    custom_field_value,
    processing_list,
    viewer_base_url,
    rate_limit,
    job_guid,
    page_ids,
)
WRITE_CHECKS = frozenset({job_guid, page_ids})
