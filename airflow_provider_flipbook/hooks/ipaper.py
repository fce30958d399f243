"""iPaper Flipbook Backend API hook (form-encoded POST to ``/V2/<Service>.asmx/<Method>``, XML answers).

* Credentials travel only in the POST body, never in the URL. The docs never name the fields;
  peers saw ``plUsername``/``plPassword`` on Paper and ``username``/``password`` on Media, so by
  default both pairs are sent (extra ``credential_fields``: ``all`` (default), ``pl`` or ``plain``).
  Login is a CMS user's e-mail, or the literal ``APIKey`` with the API key as password.
* Answers are read with XPath, never by position; CDATA and padding are trimmed. The parser
  resolves no entities, loads no DTD, touches no network, and any document with a DOCTYPE is
  refused outright (XXE, "billion laughs").
* Anything but ``SUCCESS`` is an error; ``PAPER_DOES_NOT_EXIST`` raises :class:`NotFoundError`;
  ``READONLY`` (documented maintenance mode) is transient and retried with backoff;
  ``LICENSE_DOES_NOT_ALLOW_PROCESSING`` is final and says what to do.
* ``Ripper.ProcessPDF`` and ``Media.UploadFile`` stream the base64 body with a ``Content-Length``
  counted up front (one extra read of the file; IIS binds a form only with a length), so memory stays
  flat for a 192 MB PDF.
* Conversion status: see :meth:`IPaperHook.conversion_status` and docs/conformance-ipaper-notes.md.
* The account root: extra ``root_paper_id``, else the id of URL ``/`` (``Paper.GetPaperIDFromUrl``);
  no paper id 0 is documented.
* Pacing: 48 requests per 60 s per credential, below the documented 50/min.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar
from urllib.parse import urlencode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import requests
    from lxml import etree

    from airflow_provider_flipbook.utils.files import PdfSource
    from airflow_provider_flipbook.utils.pdf import PdfFacts

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook._compat import AirflowException
from airflow_provider_flipbook.exceptions import (
    InvalidInputError,
    MalformedResponseError,
    NotFoundError,
    TransientApiError,
    VendorApiError,
)
from airflow_provider_flipbook.hooks._ipaper_papers import IPaperPapers
from airflow_provider_flipbook.hooks._ipaper_services import IPaperServices
from airflow_provider_flipbook.hooks._ipaper_wire import (
    SizedBody,
    base64_form_chunks,
    form_value,
    ripper_options,
    text,
)
from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
from airflow_provider_flipbook.hooks.event_loop import Listing
from airflow_provider_flipbook.hooks.publishing import (
    ConversionStatus,
    PdfLimits,
    PublicationBusy,
    PublicationSummary,
    Published,
    PublishRequest,
)
from airflow_provider_flipbook.utils.ratelimit import SlidingWindow
from airflow_provider_flipbook.utils.safe_xml import parse_xml
from airflow_provider_flipbook.utils.urls import public_url

MAX_PDF_BYTES = 192 * 1024 * 1024
_JOB_GUID = re.compile(r"job.?guid", re.IGNORECASE)
# version_id of a ProcessPDF answered without a job GUID (the documented answer): when it was queued
# (UTC) and a digest of the paper's pages just before; see conversion_status.
_MARKER = re.compile(r"^queued@(\d{8}T\d{6}Z)/([0-9a-f]{16})$")
JOB_STATES = {
    "Pending": "running",
    "Completed": "success",
    "EnrichmentProcessingFailed": "success",
    "Failed": "failed",
}


class IPaperHook(IPaperPapers, IPaperServices, FlipbookBaseHook):
    """iPaper: Paper, Ripper (PDF processing), Media, CustomField, Search, Statistics.

    Connection: host optional (default ``https://ipaper.api.ipapercms.dk``, partners have their
    own), login = user e-mail or ``APIKey``, password = the user's password or the API key.
    Extra ``viewer_base_url`` turns a paper's relative URL into a public one.
    """

    conn_name_attr = "ipaper_conn_id"
    default_conn_name = "ipaper_default"
    conn_type = "ipaper"
    hook_name = "iPaper"
    vendor = "iPaper"
    publication_kind = "paper"  # its asset URI kind
    default_base_url: ClassVar[str] = "https://ipaper.api.ipapercms.dk"
    default_limits = (SlidingWindow(48, 60.0),)
    pdf_limits = PdfLimits(192 * 1024 * 1024, None, accepts_password=True)  # documented: 192 MB

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads conn-fields
        """Return the connection form's extra fields, for Airflow 3.1 (3.2+ reads the provider info)."""
        return connection_extras.form_widgets(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads ui-field-behaviour
        """Return the connection form's labels and hidden fields for Airflow 3.1 (3.2+: the provider info)."""
        return connection_extras.field_behaviour(cls.conn_type)

    def credentials(self) -> dict[str, str]:
        """Return the login form fields, under the names the extra ``credential_fields`` chooses."""
        login = self._require(self.connection.login, "login", "iPaper user e-mail or 'APIKey'")
        password = self._require(self.connection.password, "password", "iPaper password or API key")
        mode = self.setting("credential_fields")  # all, pl or plain: anything else is refused there
        fields: dict[str, str] = {}
        if mode in ("all", "pl"):
            fields.update(plUsername=login, plPassword=password)
        if mode in ("all", "plain"):
            fields.update(username=login, password=password)
        return fields

    # -- generic call ---------------------------------------------------------------------

    def call(
        self,
        method: str,
        *,
        stream_field: tuple[str, Callable[[], BinaryIO]] | None = None,
        creates: bool = False,
        **params: Any,
    ) -> etree._Element:
        """Call ``"Service.Method"`` with form parameters; returns the ``<data>`` element (or ``<result>``).

        ``stream_field=(name, open_file)`` sends that field as streamed base64 of the file.

        :param method: ``"Service.Method"``, e.g. ``"Paper.GetAllPapers"``.
        :param stream_field: ``(name, open_file)``: that field is sent as streamed base64 of the file.
        :param creates: resent only when it provably never reached the vendor (see ``_request``).
        :param params: the form fields (booleans as ``true``/``false``; None left out).
        """
        service, _, name = method.partition(".")
        if not name:
            raise ValueError(f"iPaper methods look like 'Paper.GetAllPapers', got {method!r}")
        url = f"{self.base_url}/V2/{service}.asmx/{name}"
        fields = {k: form_value(v) for k, v in params.items() if v is not None}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if stream_field is None:
            return self._request(
                method,
                "POST",
                url,
                lambda r: self._parse(r, method),
                data={**fields, **self.credentials()},
                headers=headers,
                creates=creates,
            )
        field, open_file = stream_field
        head = (urlencode({**fields, **self.credentials()}) + f"&{field}=").encode()
        with open_file() as stream:  # count first: IIS binds a form only when it has a Content-Length
            length = len(head) + sum(len(chunk) for chunk in base64_form_chunks(stream))

        def chunks() -> Iterator[bytes]:
            yield head
            with open_file() as stream:
                yield from base64_form_chunks(stream)

        return self._request(
            method,
            "POST",
            url,
            lambda r: self._parse(r, method),
            body=lambda: SizedBody(chunks, length),
            headers=headers,
            creates=creates,
        )

    def _parse(self, response: requests.Response, method: str) -> etree._Element:
        if response.status_code >= 400:
            code, message = self._describe_error(response)
            if response.status_code == 404:
                raise NotFoundError(self.vendor, method, message or "no such method", status=404)
            raise self.error(method, message or response.reason, status=response.status_code, code=code)
        try:
            root = parse_xml(response.content)
        except ValueError as error:
            described = "an empty body" if not response.content else str(error)
            raise MalformedResponseError(
                self.vendor, method, described, status=response.status_code
            ) from None
        code = text(root, "/result/code")
        if not code:
            raise MalformedResponseError(
                self.vendor, method, "answer has no <code>", status=response.status_code
            )
        if code != "SUCCESS":
            message = text(root, "/result/message") or code
            status = response.status_code
            if code == "PAPER_DOES_NOT_EXIST":
                raise NotFoundError(self.vendor, method, self.redact(message), status=status, code=code)
            if code == "READONLY":  # documented maintenance mode: writes come back after the upgrade
                refused = TransientApiError(
                    self.vendor,
                    method,
                    "iPaper is in read-only maintenance mode; retrying with backoff",
                    status=status,
                    code=code,
                )
                refused.unsent = True  # the vendor refused the write: nothing was done, resending is safe
                raise refused
            if code == "LICENSE_DOES_NOT_ALLOW_PROCESSING":
                raise self.error(
                    method,
                    "the iPaper license allows no further PDF processing: the account's "
                    "license has to be upgraded (ask iPaper) before any PDF can be processed; "
                    "retrying will not help",
                    status=status,
                    code=code,
                )
            raise self.error(method, message, status=status, code=code)
        data = root.find("data")
        return data if data is not None else root

    def _describe_error(self, response: requests.Response) -> tuple[str | None, str]:
        try:
            root = parse_xml(response.content)
            return text(root, "/result/code") or None, text(root, "/result/message")
        except ValueError:
            return None, self._text_excerpt(response)

    def _probe(self) -> str:
        data = self.call("Paper.GetAllPapers", paperID=self.root_paper_id)
        found = f"{len(data.xpath('.//paper'))} papers visible below root {self.root_paper_id}"
        if self.viewer_base_url is None:
            return (
                f"{found}; no viewer_base_url: tasks will show no flipbook links until that extra is "
                "set to your iPaper viewer's address (e.g. https://<account>.ipapercms.dk)"
            )
        return f"{found}; flipbook links under {self.viewer_base_url}"

    # -- answer shapes -------------------------------------------------------------------------

    def unrecognised(self, method: str, node: etree._Element, expected: str) -> MalformedResponseError:
        """Return the error for an answer whose shape we do not know: fail at once, naming what was seen.

        :param method: the operation.
        :param node: the answer's element.
        :param expected: what was expected there, in words.
        """
        seen: list[str] = []
        for element in node.iter():
            if isinstance(element.tag, str) and element.tag not in ("result", "code", "message", "data"):
                described = element.tag + (f"[{','.join(sorted(element.keys()))}]" if element.keys() else "")
                if described not in seen:
                    seen.append(described)
        return MalformedResponseError(
            self.vendor,
            method,
            f"unrecognised answer: expected {expected}, saw {'; '.join(seen[:12]) or 'no elements'}",
        )

    def _items(self, data: etree._Element, path: str, method: str) -> list[Any]:
        """Return the elements at ``path`` (``container/item``).

        No data is an empty list, other data an error.
        """
        if data.tag != "data" or not len(data):
            return []
        container = path.split("/")[0]
        if not data.xpath(container):
            raise self.unrecognised(method, data, path)
        return list(data.xpath(path))

    def _int_at(self, data: etree._Element, path: str, method: str) -> int:
        value = text(data, path)
        if not re.fullmatch(r"-?\d+", value):
            raise self.unrecognised(method, data, path)
        return int(value)

    # -- Ripper ------------------------------------------------------------------------------

    def process_pdf(
        self,
        paper_id: int,
        open_file: Callable[[], BinaryIO],
        *,
        options: dict[str, Any] | None = None,
        password: str | None = None,
    ) -> str:
        """Queue a PDF for processing (streamed); returns the version id the status call understands.

        That is the job GUID when the answer carries one (not in the documented answer), else a marker
        ``queued@<UTC time>/<digest of the paper's pages before>``: see :meth:`conversion_status`.

        :param paper_id: the paper.
        :param open_file: opens the PDF (called per pass: counted, then sent).
        :param options: ``xmlOptions`` elements, as iPaper names them.
        :param password: the PDF's password.
        """
        return self._queue_job_once(
            "Ripper.ProcessPDF",
            paper_id,
            lambda: self.call(
                "Ripper.ProcessPDF",
                paperID=paper_id,
                xmlOptions=ripper_options(options, password),
                stream_field=("base64Pdf", open_file),
                creates=True,
            ),
        )

    def reprocess_paper(self, paper_id: int, options: dict[str, Any] | None = None) -> str:
        """Process the paper's own PDF again, like :meth:`process_pdf`.

        A newer API, not in the stored documents. Queued once as well: a lost answer is reconciled
        through the paper's job or pages.

        :param paper_id: the paper.
        :param options: ``xmlOptions`` elements, as iPaper names them.
        """
        return self._queue_job_once(
            "Ripper.ReprocessPaper",
            paper_id,
            lambda: self.call(
                "Ripper.ReprocessPaper",
                paperID=paper_id,
                xmlOptions=ripper_options(options, None),
                creates=True,
            ),
        )

    def _queue_job_once(self, method: str, paper_id: int, send: Callable[[], etree._Element]) -> str:
        """Send a call that queues a processing job on the paper; return the job GUID or ``queued@`` marker.

        The call takes effect once, also when its answer is lost.

        What such a call leaves: a job of the paper (iPaper runs one per paper at a time, so a new job
        is ours) or, once the job has finished, the paper's pages rewritten.
        """
        structure = self._structure_before(paper_id)
        before = self._pages_digest(structure)
        queued = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._now()))

        def traces() -> list[tuple[str, ...]]:
            jobs: list[tuple[str, ...]] = [
                ("job", job.get("created") or "") for job in self._jobs_on(paper_id)
            ]
            return [*jobs, ("pages", self._pages_digest(self._structure_before(paper_id)))]

        describe = f"processing traces of paper {paper_id}"
        # A retry of a task that died awaiting this answer compares against the pages from before that
        # try, and counts the wait for the job from when that try queued it.
        if (earlier := self.journaled(method, describe)) is not None:
            traces_before = [json.loads(key) for key in earlier.known]
            before = next((trace[1] for trace in traces_before if trace[:1] == ["pages"]), before)
            if earlier.started is not None:
                queued = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(earlier.started))
        data = self.create_once(
            method,
            send,
            lookup=traces,
            identity=lambda trace: trace,
            adopt=lambda found: None,
            several=True,
            describe=describe,
            before=[
                *(("job", job.get("created") or "") for job in self._jobs_on(paper_id)),
                ("pages", before),
            ],
        )
        guid = self._job_guid(data, method) if data is not None else None  # None: adopted
        return guid or f"queued@{queued}/{before}"

    def _job_guid(self, data: etree._Element, method: str) -> str | None:
        if data.tag != "data":
            return None  # the documented answer: code and message only
        for node in data.iter():
            if isinstance(node.tag, str) and _JOB_GUID.search(node.tag):
                return (node.text or "").strip() or None
        # The job is queued already: failing here would only make a retry collide with it.
        self.log.warning(
            "%s",
            self.unrecognised(method, data, "no data or a jobGuid element").message
            + "; following the job through the processing list",
        )
        return None

    def _structure_before(self, paper_id: int) -> etree._Element | None:
        """Return the paper's structure before an upload; None if a never-processed paper has none to give."""
        try:
            return self.get_paper_structure(paper_id)
        except (NotFoundError, TransientApiError, MalformedResponseError):
            raise
        except VendorApiError as error:  # undocumented for an empty paper: treat it as no pages
            self.log.info(
                "No structure for paper %s before processing (%s): counting it as empty", paper_id, error
            )
            return None

    def _pages(self, structure: etree._Element | None, method: str = "Paper.GetPaperStructure") -> list[Any]:
        if structure is None:
            return []
        if structure.tag != "data" or structure.find("paper") is None:
            raise self.unrecognised(method, structure, "data/paper")
        return list(structure.xpath("paper/pages/page"))

    def _pages_digest(self, structure: etree._Element | None) -> str:
        """Page ids, numbers and image sizes: what a finished processing run rewrites."""
        # iterfind, not an XPath per page: a 2,500-page paper's digest takes a third of the time (it
        # runs in the triggerer for every paper that left the processing list). Markers of uploads in
        # flight carry this digest: its text must not change.
        parts = [
            f"{p.get('id')}:{p.get('number')}:"
            + ",".join(i.get("file-size", "") for i in p.iterfind("images/image"))
            for p in self._pages(structure)
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def get_processing_papers(self) -> list[dict[str, str]]:
        """``Ripper.GetProcessingPapers``: the running jobs (``paper-id``, ``progress``); empty when none."""
        data = self.call(
            "Ripper.GetProcessingPapers"
        )  # no data: nothing is processing (not shown in the documents)
        processes = [
            dict(node.attrib) for node in self._items(data, "processes/process", "Ripper.GetProcessingPapers")
        ]
        if any("paper-id" not in p for p in processes):
            raise self.unrecognised("Ripper.GetProcessingPapers", data, "processes/process[paper-id]")
        return processes

    def _jobs_on(self, paper_id: int | str) -> list[dict[str, str]]:
        """Return the processing jobs of one paper (iPaper runs one at a time per paper)."""
        return [job for job in self.get_processing_papers() if job.get("paper-id") == str(paper_id)]

    def get_processing_status(self, job_guid: str) -> str:
        """``Ripper.GetProcessingStatus``: ``Pending``, ``Completed``, ``EnrichmentProcessingFailed`` or ``Failed``.

        :param job_guid: the job's GUID.
        """
        data = self.call("Ripper.GetProcessingStatus", jobGuid=job_guid)
        status = text(data, "ProcessStatus")
        if status not in JOB_STATES:
            raise self.unrecognised(
                "Ripper.GetProcessingStatus",
                data,
                f"ProcessStatus one of {', '.join(JOB_STATES)} (got {status!r})",
            )
        return status

    #: ``Ripper.GetProcessingPapers`` lists every running job of the account in one answer (no paging).
    #: A wait is not woken for a new ``progress`` alone (every job's, every round).
    status_listing: ClassVar[Listing | None] = Listing(
        "processing", "get_processing_papers", "paper-id", volatile=("progress",)
    )

    def listed_conversion_status(
        self,
        entry: Mapping[str, Any] | None,
        publication_id: str,
        version_id: str | None = None,
        *,
        new_publication: bool = False,
    ) -> ConversionStatus | None:
        """Read :meth:`conversion_status` from the processing list.

        A listed paper is converting; one not listed has finished, failed or is not listed yet, which
        only the paper itself tells (None: ask :meth:`conversion_status`).

        The hook notes which papers the latest round left out, so the :meth:`conversion_status` that
        follows for such a paper does not ask for the whole list again: its one request is the
        paper's pages. (On the loop, a second request without a free pacing slot would also make the
        whole status call start over, repeating the list call it has made.)

        :param entry: the paper's job as the processing list gives it (None: not listed)
        :param publication_id: the paper id
        :param version_id: the job GUID or upload marker (the list holds no job ids)
        :param new_publication: unused
        """
        if entry is None:
            self._unlisted.add(str(publication_id))
            return None
        self._unlisted.discard(str(publication_id))
        return {"state": "running", "detail": f"progress {entry.get('progress')}% (processing list)"}

    @cached_property
    def _ended_jobs(self) -> dict[str, str]:
        """Each job's final status once seen (it never changes).

        On the loop, a status call whose summary found no free slot runs again once one is booked
        (``acall``): the rerun spends that slot on the summary, not on asking the status again.
        """
        return {}

    @cached_property
    def _unlisted(self) -> set[str]:
        """Papers the account poll's latest round did not list (see :meth:`listed_conversion_status`)."""
        return set()

    def _jobs_unless_unlisted(self, paper_id: int) -> list[dict[str, str]]:
        """Return the paper's running jobs.

        None, without a request, when the latest listed round left the paper out.
        """
        return [] if str(paper_id) in self._unlisted else self._jobs_on(paper_id)

    def paper_free_status(self, paper_id: int | str) -> ConversionStatus:
        """Tell whether an earlier job still runs on the paper (iPaper runs one per paper).

        ``success`` when the paper is free, ``running`` while a job is listed.

        :param paper_id: the paper
        """
        busy = self._jobs_on(paper_id)
        return self.listed_paper_free_status(busy[0] if busy else None, paper_id)

    @staticmethod
    def listed_paper_free_status(entry: Mapping[str, Any] | None, paper_id: int | str) -> ConversionStatus:
        """:meth:`paper_free_status` from the paper's entry in the processing list (None: not listed).

        :param entry: the paper's job in the processing list, or None
        :param paper_id: the paper
        """
        if entry is None:
            return {"state": "success", "detail": f"no job runs on paper {paper_id}"}
        return {
            "state": "running",
            "detail": f"an earlier job on paper {paper_id} is at {entry.get('progress')}%",
        }

    @property
    def appear_timeout(self) -> float:
        """Seconds a queued job may stay out of the processing list before an unchanged paper means failure."""
        return self.setting("processing_appear_timeout")

    def conversion_status(
        self, paper_id: int | str, job_guid: str | None = None, *, summary: bool = True
    ) -> ConversionStatus:
        """Return the status: the one status call (sensor, trigger, operator).

        ``job_guid`` is process_pdf's version id.

        With a job GUID: ``Ripper.GetProcessingStatus``. Without one (the documented ProcessPDF
        answer), leaving ``Ripper.GetProcessingPapers`` is not success by itself: the paper's pages
        (``Paper.GetPaperStructure``) must differ from the digest taken before the upload. A paper
        still unchanged is "running" for ``processing_appear_timeout`` seconds after queueing (the
        job may not be listed yet), then "failed".

        :param paper_id: the paper.
        :param job_guid: what ``process_pdf`` returned (a job GUID or a ``queued@`` marker); None: the paper.
        :param summary: read the paper's summary when it is done.
        """
        paper_id = int(paper_id)
        marker = _MARKER.match(job_guid or "")
        if job_guid and not marker:
            status = self._ended_jobs.get(job_guid) or self.get_processing_status(job_guid)
            if status != "Pending":
                self._ended_jobs[job_guid] = status
            if status == "Pending":
                progress = next((p.get("progress") for p in self._jobs_unless_unlisted(paper_id)), None)
                return {"state": "running", "detail": f"Pending {progress or ''}%".strip()}
            if status == "Failed":
                return {
                    "state": "failed",
                    "detail": f"processing of paper {paper_id} failed (job {job_guid})",
                }
            if not summary:
                return {"state": "success", "detail": status}
            return {"state": "success", "detail": status, "publication": self.paper_summary(paper_id)}
        running = self._jobs_unless_unlisted(paper_id)
        if running:
            return {"state": "running", "detail": f"progress {running[0].get('progress')}%"}
        structure = self.get_paper_structure(paper_id)
        pages = len(self._pages(structure))
        if marker:
            queued, before = marker.groups()
            waited = time.time() - calendar.timegm(time.strptime(queued, "%Y%m%dT%H%M%SZ"))
            if pages and self._pages_digest(structure) != before:
                detail = f"processed: {pages} pages, changed since the upload"
            elif waited < self.appear_timeout:
                return {
                    "state": "running",
                    "detail": f"queued {waited:.0f} s ago, not in the processing list yet",
                }
            else:
                return {
                    "state": "failed",
                    "detail": (
                        f"paper {paper_id} is not processing and its pages are unchanged {waited:.0f} s after the upload "
                        f"({pages} pages): iPaper processed nothing, or failed (it reports no job result without a job "
                        "id). Check the paper in the iPaper CMS; raise the connection extra processing_appear_timeout "
                        "if jobs take longer to be listed."
                    ),
                }
        elif pages:
            detail = f"{pages} pages, not processing (no upload marker: the run itself is not checked)"
        else:
            return {"state": "running", "detail": "not processing and no pages yet"}
        if not summary:
            return {"state": "success", "detail": detail}
        return {"state": "success", "detail": detail, "publication": self._summary(paper_id, structure)}

    def paper_summary(self, paper_id: int) -> PublicationSummary:
        """Return the paper's id, name, URL and page count (``Paper.GetPaperStructure``).

        :param paper_id: the paper.
        """
        return self._summary(paper_id, self.get_paper_structure(paper_id))

    # -- publishing (the PublishingHook protocol) ---------------------------------------------

    def check_request(self, request: PublishRequest) -> None:
        """Refuse a parent category that is no iPaper id, before any remote call.

        :param request: what the operator was asked to publish.
        """
        parent = request.parent_category_id
        if parent is not None and parent <= 0:  # iPaper documents no "paper 0 = root"
            raise InvalidInputError(
                f"parent_category_id={parent} is not an iPaper category id: leave it unset for "
                "the account's root (connection extra root_paper_id, or looked up)"
            )

    def publish_pdf(self, source: PdfSource, facts: PdfFacts, request: PublishRequest) -> Published:
        """Publish a PDF on a paper: reuse or create the paper, then process the PDF.

        The paper at ``url_name`` (default from the name) under the parent category is reused if it
        exists (its URL is its natural key: a rerun never makes a second one) and created if not, or
        ``publication_id`` names it; then ``Ripper.ProcessPDF`` with a streamed body, once an earlier
        job on the paper has finished (iPaper runs one per paper): waited for here, or, without
        ``request.wait_in_task``, :class:`PublicationBusy` is raised for the caller to wait elsewhere.

        :param source: the PDF, opened per pass.
        :param facts: what the local check found (size, pages, encryption).
        :param request: the name, the paper or category, the URL name, the PDF's password.
        """
        paper_id = int(request.publication_id) if request.publication_id else None
        created = False
        if paper_id is None:
            url_name = request.url_name or re.sub(r"[^a-z0-9]+", "-", request.name.lower()).strip("-")
            parent = request.parent_category_id or self.root_paper_id
            paper_id = self.get_paper_id_from_url(f"{self.get_paper_url(parent).rstrip('/')}/{url_name}/")
            if paper_id is None:
                paper_id = self.create_paper(parent, request.name, url_name)
                created = True
                self.log.info("Created iPaper paper %s", paper_id)
            else:
                self.log.info("iPaper paper %s already has that URL: adding a new version to it", paper_id)
        if request.wait_in_task:
            self.wait_until_free(paper_id, poll_interval=request.poll_interval, timeout=request.wait_timeout)
        elif (free := self.paper_free_status(paper_id))["state"] != "success":
            raise PublicationBusy(
                str(paper_id),
                free["detail"],
                "airflow_provider_flipbook.triggers.ipaper.IPaperPaperFreeTrigger",
                {"paper_id": str(paper_id)},
            )
        version = self.process_pdf(paper_id, source.open, password=request.pdf_password)
        return {
            "publication_id": str(paper_id),
            "version_id": version,
            "url": self.public_url(self.get_paper_url(paper_id), paper_id),
            "created": created,
        }

    @cached_property
    def viewer_base_url(self) -> str | None:
        """The extra ``viewer_base_url`` (absolute http(s)), or None when unset."""
        viewer = str(self.setting("viewer_base_url") or "").strip().rstrip("/")
        if viewer and public_url(viewer) is None:
            raise AirflowException(
                f"Connection {self.conn_id!r} (iPaper): extra viewer_base_url must be an absolute "
                f"http(s) URL such as https://<account>.ipapercms.dk, got {viewer!r}"
            )
        return viewer or None

    @cached_property
    def _warned_no_viewer(self) -> set[int]:
        return set()

    def public_url(self, relative: str, paper_id: int) -> str | None:
        """Return a paper's public URL, or None.

        iPaper answers only its path (``/demos/21/``), which the extra ``viewer_base_url`` turns into a
        URL. Without it, None: a relative link would open on the Airflow UI's own host. The documents
        give no way to learn the viewer's address (the page images' hosts "may change at any point"), so
        it is not guessed.

        :param relative: the paper's path, e.g. ``/demos/21/``.
        :param paper_id: the paper (named in the warning).
        """
        if self.viewer_base_url is None:
            if paper_id not in self._warned_no_viewer:
                self._warned_no_viewer.add(paper_id)
                self.log.warning(
                    "iPaper paper %s is at %s on your iPaper viewer, but connection %r sets no "
                    "viewer_base_url, so no link is shown: set that extra to the viewer's address "
                    "(e.g. https://<account>.ipapercms.dk)",
                    paper_id,
                    relative,
                    self.conn_id,
                )
            return None
        return public_url(self.viewer_base_url + "/" + relative.lstrip("/"))

    def wait_until_free(self, paper_id: int, *, poll_interval: float, timeout: float) -> None:
        """Let a job still running on the paper (say, last night's) finish: one job per paper at a time.

        :param paper_id: the paper.
        :param poll_interval: seconds between two looks at the processing list.
        :param timeout: seconds to wait.
        """
        deadline = time.monotonic() + timeout
        while (free := self.paper_free_status(paper_id))["state"] != "success":
            if time.monotonic() >= deadline:
                raise self.error(
                    "Ripper.GetProcessingPapers", f"{free['detail']}: still busy after {timeout:g} s"
                )
            self.log.info("iPaper: %s", free["detail"])
            time.sleep(min(poll_interval, max(deadline - time.monotonic(), 0)))

    def publication_summary(self, publication_id: str) -> PublicationSummary:
        """Return the paper's id, name, URL and page count.

        :param publication_id: the paper's id.
        """
        return self.paper_summary(int(publication_id))

    def find_publications(self, name: str) -> list[PublicationSummary]:
        """Find the papers named exactly ``name`` below the account's root (categories are skipped).

        :param name: the name to look for.
        """
        found = [hit for hit in self.search_by_name(name) if hit.get("name") == name]
        if any(not hit.get("paperID") or hit.get("category") not in ("True", "False") for hit in found):
            raise MalformedResponseError(
                self.vendor,
                "Search.SearchPapersWithHiearchyByName",
                "unrecognised answer: expected papers/paper[paperID,category], saw "
                f"{sorted({key for hit in found for key in hit})}",
            )
        return [self.paper_summary(int(hit["paperID"])) for hit in found if hit["category"] == "False"]

    def _summary(self, paper_id: int, structure: etree._Element) -> PublicationSummary:
        pages = self._pages(structure)
        return {
            "publication_id": str(paper_id),
            "name": text(structure, "paper/@name"),
            "url": self.public_url(text(structure, "paper/@url"), paper_id),
            "total_pages": len(pages) or None,
        }
