"""iPaper Flipbook Backend API hook (form-encoded POST to ``/V2/<Service>.asmx/<Method>``, XML answers).

* Credentials travel only in the POST body, never in the URL. The docs never name the fields;
  peers saw ``plUsername``/``plPassword`` on Paper and ``username``/``password`` on Media, so by
  default both pairs are sent (extra ``credential_fields``: ``all`` (default), ``pl`` or ``plain``).
  Login is a CMS user's e-mail, or the literal ``APIKey`` with the API key as password.
* Answers are read with XPath, never by position; CDATA and padding are trimmed. The parser
  resolves no entities, loads no DTD, touches no network, and any document with a DOCTYPE is
  refused outright (XXE, "billion laughs").
* Anything but ``SUCCESS`` is an error; ``PAPER_DOES_NOT_EXIST`` raises :class:`NotFoundError`.
* ``Ripper.ProcessPDF`` streams the base64 body (chunked), so memory stays flat for a 192 MB PDF.
  Status: ``Ripper.GetProcessingStatus(jobGuid)`` when ProcessPDF returned a job GUID (any element
  whose name looks like ``jobGuid``), else the paper's presence in ``Ripper.GetProcessingPapers``.
  ``EnrichmentProcessingFailed`` counts as converted (the PDF itself was processed) and is reported.
* Pacing: 48 requests per 60 s per credential, below the documented 50/min.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlencode

import requests
from lxml import etree

from airflow_provider_flipbook._compat import AirflowException
from airflow_provider_flipbook.exceptions import MalformedResponseError, NotFoundError
from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
from airflow_provider_flipbook.utils.ratelimit import SlidingWindow

MAX_PDF_BYTES = 192 * 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=True, strip_cdata=True)
_CHUNK = 3 * 256 * 1024  # a multiple of 3: base64 pieces concatenate without inner padding
_JOB_GUID = re.compile(r"job.?guid", re.IGNORECASE)


def parse_xml(content: bytes) -> etree._Element:
    """Parse an iPaper answer safely; raise ``ValueError`` on anything but plain, well-formed XML."""
    head = content[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in content.upper():
        raise ValueError("XML with a DOCTYPE or entity declarations is refused")
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as error:
        raise ValueError(f"malformed XML ({error.msg})") from None


def text(node: etree._Element | None, path: str) -> str:
    return "" if node is None else str(node.xpath(f"string({path})")).strip()


def base64_form_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """URL-encoded base64 of a binary stream, chunk by chunk."""
    while chunk := stream.read(_CHUNK):
        yield base64.b64encode(chunk).replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")


class IPaperHook(FlipbookBaseHook):
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
    default_base_url: ClassVar[str] = "https://ipaper.api.ipapercms.dk"
    default_limits = (SlidingWindow(48, 60.0),)

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads conn-fields
        return cls._form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads ui-field-behaviour
        return cls._field_behaviour()

    def credentials(self) -> dict[str, str]:
        login = self._require(self.connection.login, "login", "iPaper user e-mail or 'APIKey'")
        password = self._require(self.connection.password, "password", "iPaper password or API key")
        mode = str(self.extra("credential_fields", "all")).lower()
        if mode not in ("all", "pl", "plain"):  # anything else would send no credentials at all
            raise AirflowException(f"Connection {self.conn_id!r}: extra 'credential_fields' must be all, pl or "
                                   f"plain, not {mode!r}")
        fields: dict[str, str] = {}
        if mode in ("all", "pl"):
            fields.update(plUsername=login, plPassword=password)
        if mode in ("all", "plain"):
            fields.update(username=login, password=password)
        return fields

    # -- generic call ---------------------------------------------------------------------

    def call(self, method: str, *, stream_field: tuple[str, Callable[[], BinaryIO]] | None = None,
             creates: bool = False, **params: Any) -> etree._Element:
        """Call ``"Service.Method"`` with form parameters; returns the ``<data>`` element (or ``<result>``).

        ``stream_field=(name, open_file)`` sends that field as streamed base64 of the file.
        """
        service, _, name = method.partition(".")
        if not name:
            raise ValueError(f"iPaper methods look like 'Paper.GetAllPapers', got {method!r}")
        url = f"{self.base_url}/V2/{service}.asmx/{name}"
        fields = {k: _form_value(v) for k, v in params.items() if v is not None}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if stream_field is None:
            return self._request(method, "POST", url, lambda r: self._parse(r, method),
                                 data={**fields, **self.credentials()}, headers=headers, creates=creates)
        field, open_file = stream_field

        def body() -> Iterator[bytes]:
            yield (urlencode({**fields, **self.credentials()}) + f"&{field}=").encode()
            with open_file() as stream:
                yield from base64_form_chunks(stream)

        return self._request(method, "POST", url, lambda r: self._parse(r, method), body=body, headers=headers,
                             creates=creates)

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
            raise MalformedResponseError(self.vendor, method, described, status=response.status_code) from None
        code = text(root, "/result/code")
        if not code:
            raise MalformedResponseError(self.vendor, method, "answer has no <code>", status=response.status_code)
        if code != "SUCCESS":
            message = text(root, "/result/message") or code
            cls = NotFoundError if code == "PAPER_DOES_NOT_EXIST" else None
            if cls:
                raise cls(self.vendor, method, self.redact(message), status=response.status_code, code=code)
            raise self.error(method, message, status=response.status_code, code=code)
        data = root.find("data")
        return data if data is not None else root

    def _describe_error(self, response: requests.Response) -> tuple[str | None, str]:
        try:
            root = parse_xml(response.content)
            return text(root, "/result/code") or None, text(root, "/result/message")
        except ValueError:
            return None, self._text_excerpt(response)

    def _probe(self) -> str:
        data = self.call("Paper.GetAllPapers", paperID=0)
        return f"{len(data.xpath('.//paper'))} papers visible"

    # -- Paper -------------------------------------------------------------------------------

    def get_all_papers(self, paper_id: int = 0) -> etree._Element:
        """The category/paper tree below ``paper_id`` (0 = the account's root)."""
        return self.call("Paper.GetAllPapers", paperID=paper_id)

    def iter_papers(self, paper_id: int = 0) -> Iterator[dict[str, str]]:
        for node in self.get_all_papers(paper_id).xpath(".//paper"):
            yield {k: node.get(k) for k in node.keys()}

    def create_paper(self, parent_id: int, name: str, url_name: str) -> int:
        return self._create_once_by_url("Paper.CreatePaper", parent_id, url_name,
                                        parentID=parent_id, name=name, urlName=url_name)

    def create_category(self, parent_id: int, name: str, url_name: str) -> int:
        return self._create_once_by_url("Paper.CreateCategory", parent_id, url_name,
                                        paperID=parent_id, name=name, urlName=url_name)

    def _create_once_by_url(self, method: str, parent_id: int, url_name: str, **params: Any) -> int:
        """A paper's URL is unique in the account: after a lost answer, the paper at our URL is ours."""
        parent_url = self.get_paper_url(parent_id) if parent_id else "/"
        url = f"{parent_url.rstrip('/')}/{url_name}/"

        def at_url() -> list[int]:
            found = self.get_paper_id_from_url(url)
            return [] if found is None else [found]

        return self.create_once(
            method, lambda: int(text(self.call(method, creates=True, **params), "paper/@id")),
            lookup=at_url, identity=lambda paper_id: paper_id, adopt=lambda found: found[0],
            describe=f"paper URL {url}",
        )

    def delete_paper(self, paper_id: int) -> None:
        self.call("Paper.DeletePaper", paperID=paper_id)

    def move_paper(self, paper_id: int, destination_parent_id: int) -> None:
        self.call("Paper.MovePaper", sourcePaperID=paper_id, destinationParentID=destination_parent_id)

    def change_paper_url(self, paper_id: int, new_url: str) -> None:
        self.call("Paper.ChangePaperUrl", paperID=paper_id, newUrl=new_url)

    def get_paper_id_from_url(self, url: str) -> int | None:
        """None when no paper has that URL (the vendor answers SUCCESS with no data)."""
        found = text(self.call("Paper.GetPaperIDFromUrl", url=url), "paper/@id")
        return int(found) if found else None

    def get_paper_url(self, paper_id: int) -> str:
        return text(self.call("Paper.GetPaperUrlFromID", paperID=paper_id), "paper/@url")

    def get_paper_structure(self, paper_id: int, include_indexed_text: bool = False) -> etree._Element:
        return self.call("Paper.GetPaperStructure", paperID=paper_id, includeIndexedText=include_indexed_text)

    def create_preview_token(self, paper_id: int, validity_minutes: int = 60, ip: str = "") -> str:
        return text(self.call("Paper.CreatePreviewToken", paperID=paper_id, validityMinutes=validity_minutes,
                              ip=ip), "token")

    def set_publication_period(self, paper_id: int, start: str, end: str) -> None:
        """Dates as ``YYYY-MM-DD HH:MM:SS`` (the format GetAllPapers reports)."""
        self.call("Paper.SetPublicationPeriod", paperID=paper_id, **period(start, end))

    def clear_publication_period(self, paper_id: int) -> None:
        self.call("Paper.ClearPublicationPeriod", paperID=paper_id)

    def get_setting_descriptions(self) -> list[dict[str, str]]:
        return [dict(node.attrib) for node in self.call("Paper.GetSettingDescriptions").xpath(".//setting")]

    def get_setting(self, paper_id: int, setting: str) -> str:
        return text(self.call("Paper.GetSetting", paperID=paper_id, setting=setting), f"*[local-name()='{setting}']")

    def set_setting(self, paper_id: int, setting: str, value: Any) -> None:
        self.call("Paper.SetSetting", paperID=paper_id, setting=setting, value=value)

    # -- Ripper ------------------------------------------------------------------------------

    def process_pdf(self, paper_id: int, open_file: Callable[[], BinaryIO], *, options: dict[str, Any] | None = None,
                    password: str | None = None) -> str | None:
        """Queue a PDF for processing (streamed); returns the job GUID when the API gives one."""
        def traces() -> list[tuple[str, ...]]:
            """What a ProcessPDF leaves: a job of this paper (one runs at a time, so a new one is ours),
            or, once it has finished, the paper's pages (new page ids)."""
            jobs: list[tuple[str, ...]] = [("job", job.get("created") or "") for job in self.get_processing_papers()
                    if job.get("paper-id") == str(paper_id)]
            pages = tuple(self.get_paper_structure(paper_id).xpath("paper/pages/page/@id"))
            return [*jobs, ("pages", *pages)] if pages else jobs

        data = self.create_once(
            "Ripper.ProcessPDF",
            lambda: self.call("Ripper.ProcessPDF", paperID=paper_id, xmlOptions=ripper_options(options, password),
                              stream_field=("base64Pdf", open_file), creates=True),
            lookup=traces, identity=lambda trace: trace, adopt=lambda found: None, several=True,
            describe=f"processing traces of paper {paper_id}",
        )
        if data is None:  # adopted after a lost answer: the job's GUID was in that answer
            return None
        for node in data.iter():
            if isinstance(node.tag, str) and _JOB_GUID.search(node.tag):
                return (node.text or "").strip() or None
        return None

    def reprocess_paper(self, paper_id: int, options: dict[str, Any] | None = None) -> etree._Element:
        return self.call("Ripper.ReprocessPaper", paperID=paper_id, xmlOptions=ripper_options(options, None))

    def get_processing_papers(self) -> list[dict[str, str]]:
        return [dict(node.attrib) for node in self.call("Ripper.GetProcessingPapers").xpath(".//process")]

    def get_processing_status(self, job_guid: str) -> str:
        return text(self.call("Ripper.GetProcessingStatus", jobGuid=job_guid), "ProcessStatus")

    def conversion_status(self, paper_id: int | str, job_guid: str | None = None, *,
                          summary: bool = True) -> dict[str, Any]:
        paper_id = int(paper_id)
        if job_guid:
            status = self.get_processing_status(job_guid)
            if status == "Pending":
                progress = next((p.get("progress") for p in self.get_processing_papers()
                                 if p.get("paper-id") == str(paper_id)), None)
                return {"state": "running", "detail": f"Pending {progress or ''}%".strip()}
            if status == "Failed":
                return {"state": "failed", "detail": f"processing of paper {paper_id} failed"}
            if status not in ("Completed", "EnrichmentProcessingFailed"):
                return {"state": "running", "detail": status or "unknown"}
            detail = status
        else:
            running = [p for p in self.get_processing_papers() if p.get("paper-id") == str(paper_id)]
            if running:
                return {"state": "running", "detail": f"progress {running[0].get('progress')}%"}
            detail = "left the processing list"
        if not summary:
            return {"state": "success", "detail": detail}
        return {"state": "success", "detail": detail, "publication": self.paper_summary(paper_id)}

    def paper_summary(self, paper_id: int) -> dict[str, Any]:
        structure = self.get_paper_structure(paper_id)
        relative = text(structure, "paper/@url")
        viewer = str(self.extra("viewer_base_url", "")).rstrip("/")
        return {"publication_id": str(paper_id), "name": text(structure, "paper/@name"),
                "url": viewer + relative if viewer else relative,
                "total_pages": len(structure.xpath("paper/pages/page")) or None}

    # -- Media, CustomField, Search, Statistics ------------------------------------------------

    def get_media_tree(self) -> etree._Element:
        return self.call("Media.GetTree")

    def create_media_directory(self, parent_id: int, name: str) -> int:
        return int(text(self.call("Media.CreateDirectory", parentID=parent_id, name=name), "directoryid"))

    def delete_media_directory(self, directory_id: int) -> None:
        self.call("Media.DeleteDirectory", directoryID=directory_id)

    def upload_media_file(self, parent_id: int, name: str, open_file: Callable[[], BinaryIO]) -> int:
        """Upserts by name (the vendor overwrites a file of the same name)."""
        return int(text(self.call("Media.UploadFile", parentID=parent_id, name=name,
                                  stream_field=("base64File", open_file)), "fileid"))

    def delete_media_file(self, file_id: int) -> None:
        self.call("Media.DeleteFile", fileID=file_id)

    def add_custom_field(self, name: str, data_type: str) -> None:
        self.call("CustomField.AddCustomField", name=name, dataType=data_type)

    def delete_custom_field(self, name: str) -> None:
        self.call("CustomField.DeleteCustomField", name=name)

    def get_custom_field_definitions(self) -> dict[str, str]:
        fields = self.call("CustomField.GetCustomFieldDefinitions").xpath(".//field")
        return {f.get("name"): f.get("datatype") for f in fields}

    def get_custom_field_value(self, paper_id: int, field_name: str) -> str:
        data = self.call("CustomField.GetCustomFieldValue", paperID=paper_id, fieldName=field_name)
        return text(data, f".//field[@name='{field_name}']") or text(data, ".")

    def set_custom_field_value(self, paper_id: int, field_name: str, value: Any) -> None:
        self.call("CustomField.SetCustomFieldValue", paperID=paper_id, fieldName=field_name, value=value)

    def set_custom_field_values(self, paper_id: int, values: dict[str, Any]) -> None:
        """Not atomic on the vendor side: applied in order, stops at the first failure."""
        fields = etree.Element("fields")
        for name, value in values.items():
            etree.SubElement(fields, "field", name=name).text = _form_value(value)
        self.call("CustomField.SetMultipleCustomFieldValues", paperID=paper_id,
                  fieldsXml=etree.tostring(fields, encoding="unicode"))

    def search_by_content(self, query: str, category_or_paper_id: int = 0) -> list[dict[str, str]]:
        data = self.call("Search.SearchPapersByContent", query=query, categoryOrPaperID=category_or_paper_id,
                         xmlOptions="<options />")
        return [dict(node.attrib) for node in data.xpath(".//result")]

    def search_by_name(self, query: str, category_id: int = 0) -> list[dict[str, str]]:
        data = self.call("Search.SearchPapersWithHiearchyByName", query=query, categoryID=category_id,
                         xmlOptions="<options />")
        return [dict(node.attrib) for node in data.xpath(".//paper")]

    def search_by_custom_fields(self, category_id: int, criteria: dict[str, str]) -> list[dict[str, Any]]:
        options = etree.Element("options")
        crit = etree.SubElement(options, "customfieldcriterias")
        for name, value in criteria.items():
            etree.SubElement(crit, "field", name=name, usewildcards=str("%" in value).lower(), value=value)
        etree.SubElement(options, "includedcustomfields", includeall="true")
        data = self.call("Search.SearchPapersByCustomFields", categoryID=category_id,
                         xmlOptions=etree.tostring(options, encoding="unicode"))
        return [{**dict(p.attrib), "customfields": {f.get("name"): (f.text or "").strip()
                                                    for f in p.xpath("customfields/field")}}
                for p in data.xpath(".//paper")]

    def get_pageviews_per_day(self, paper_id: int, start: str, end: str) -> dict[str, int]:
        data = self.call("Statistics.GetNumberOfPageviewsPerDay", paperID=paper_id, **period(start, end))
        return {d.get("date"): int(d.get("views", 0)) for d in data.xpath(".//day")}

    def get_visitors_per_day(self, paper_id: int, start: str, end: str) -> dict[str, int]:
        data = self.call("Statistics.GetNumberOfVisitorsPerDay", paperID=paper_id, **period(start, end))
        return {d.get("date"): int(d.get("visitors", 0)) for d in data.xpath(".//day")}

    def get_visitors(self, paper_id: int, start: str, end: str) -> int:
        data = self.call("Statistics.GetNumberOfVisitors", paperID=paper_id, **period(start, end))
        return int(text(data, "visitors/@count") or 0)


def period(start: str, end: str) -> dict[str, Any]:
    """The statistics and publication-period parameters, whose names are Python keywords."""
    return {"from": start, "to": end}


def ripper_options(options: dict[str, Any] | None, password: str | None) -> str:
    root = etree.Element("options")
    for name, value in {**(options or {}), **({"password": password} if password else {})}.items():
        etree.SubElement(root, name).text = _form_value(value)
    return etree.tostring(root, encoding="unicode")


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
