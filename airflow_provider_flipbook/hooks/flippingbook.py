"""FlippingBook Online API hook (JSON over HTTPS, ``Authorization: Bearer <API key>``).

Choices where the vendor's documents are silent or disagree (see shared/vendor-apis):

* Errors: ``success: false`` is an error whatever the HTTP status (older docs answer some errors
  with HTTP 200). The code is read from every documented shape: top-level ``wellKnownError`` /
  ``error`` strings, a nested ``error`` object, an ``errors`` array, and the 2019 PascalCase names.
* ``ObjectNotFound`` (HTTP 200 or 404) raises :class:`NotFoundError`.
* Source progress is read from ``progress`` or ``Progress``.
* Pacing: a burst of 10, then 1 request per second, per API key.
* ``createdSource`` (publication create/update with ``url`` or ``data``) carries its own
  ``success``/``wellKnownError``/``message``: a failed source is an error, even when the
  publication call itself succeeded (POST publication page). An answer without ``createdSource``
  or its ``id`` fails at once, naming the keys seen.
* ``onNotOpenedUntil``: the tracked-link pages type it "boolean" but describe "the specified
  date/time (ISO 8601 format)", and the answer carries it as ``triggers.onNotOpenedUntil.until``
  (string): it is sent as an ISO 8601 UTC date-time string, ``YYYY-MM-DDTHH:MM:SSZ``.
* Tracked-link URLs: the pages give only ``urlName`` and "prefix it with
  ``https://online.flippingbook.com/link/`` (for the default domain)"; with a custom domain the
  prefix is taken from the link's own ``publication.url`` (the canonical URL, on that domain).
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any, ClassVar, cast

import requests

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from airflow_provider_flipbook.utils.files import PdfSource
    from airflow_provider_flipbook.utils.pdf import PdfFacts

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook._compat import mask_secret
from airflow_provider_flipbook.exceptions import (
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    VendorApiError,
)
from airflow_provider_flipbook.hooks._flippingbook_links import TrackedLinks
from airflow_provider_flipbook.hooks._flippingbook_webhooks import WebhookTriggers
from airflow_provider_flipbook.hooks._flippingbook_wire import (
    FB,
    REQUEST_LIMIT_BYTES,
    drop_none,
    error_fields,
    inline_request_fits,
    iso8601,
    publication_summary,
    tracked_link_url,
)
from airflow_provider_flipbook.hooks.base import FlipbookBaseHook
from airflow_provider_flipbook.hooks.event_loop import Listing
from airflow_provider_flipbook.hooks.publishing import (
    ConversionStatus,
    PdfLimits,
    PublicationSummary,
    Published,
    PublishRequest,
)
from airflow_provider_flipbook.utils.paging import Page, paged
from airflow_provider_flipbook.utils.ratelimit import TokenBucket

API = "/api/v1"
TERMINAL_SOURCE_STATES = {"CompletedAllStages", "CompletedWithErrors", "WaitManualQueue"}
SOURCE_STATES = {"WaitAutoQueue", "Queued", "Completed", *TERMINAL_SOURCE_STATES}  # the source GET page


class _Bearer(requests.auth.AuthBase):
    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request


class FlippingBookHook(TrackedLinks, WebhookTriggers, FlipbookBaseHook):
    """FlippingBook Online: publications, sources, tracked links, triggers, domains, folders, keys.

    Connection: password = API key; host optional (default ``https://api-tc.is.flippingbook.com``).
    """

    conn_name_attr = "flippingbook_conn_id"
    default_conn_name = "flippingbook_default"
    conn_type = "flippingbook"
    hook_name = "FlippingBook Online"
    vendor = "FlippingBook"
    publication_kind = "publication"  # its asset URI kind
    default_base_url: ClassVar[str] = "https://api-tc.is.flippingbook.com"
    default_limits = (TokenBucket(burst=10, rate=1.0),)
    # documented: 500 MB, 2000 pages, no protected PDFs, no XFA forms ("does not contain XFA (forms)")
    pdf_limits = PdfLimits(500 * 1024 * 1024, 2000, accepts_password=False, accepts_xfa=False)

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads conn-fields
        """Return the connection form's extra fields, for Airflow 3.1 (3.2+ reads the provider info)."""
        return connection_extras.form_widgets(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads ui-field-behaviour
        """Return the connection form's labels and hidden fields for Airflow 3.1 (3.2+: the provider info)."""
        return connection_extras.field_behaviour(cls.conn_type)

    def _auth(self) -> requests.auth.AuthBase:
        return _Bearer(self._require(self.connection.password, "password", "FlippingBook API key"))

    # -- generic call ---------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        operation: str | None = None,
        params: dict | None = None,
        json: Any = None,
        creates: bool = False,
    ) -> dict[str, Any]:
        """Call any endpoint, e.g. ``call("GET", "/api/v1/auth/me")``; returns the JSON body.

        :param method: the HTTP method.
        :param path: the path below the host, e.g. ``/api/v1/fbonline/folders``.
        :param operation: the name errors carry (default: method and path).
        :param params: query parameters.
        :param json: the JSON body.
        :param creates: the call creates something: resent only when it provably never reached the vendor
            (see ``_request``).
        """
        operation = operation or f"{method} {path}"
        return self._request(
            operation,
            method,
            self.base_url + path,
            lambda r: self._parse(r, operation),
            params=params,
            json=json,
            creates=creates,
            headers={"Content-Type": "application/json"} if json is not None else None,
        )

    def _parse(self, response: requests.Response, operation: str) -> dict[str, Any]:
        body = self._json(response, operation)
        code, message = error_fields(body)
        failed = response.status_code >= 400 or (
            isinstance(body, dict) and (body.get("success", body.get("Success", True)) is False)
        )
        if not failed:
            if not isinstance(body, dict):
                raise self.error(operation, "expected a JSON object", status=response.status_code)
            return body
        status = response.status_code
        if code == "ObjectNotFound" or status == 404:
            raise NotFoundError(
                self.vendor, operation, self.redact(message or "not found"), status=status, code=code
            )
        if code == "RateLimitExceeded":
            raise RateLimitError(
                self.vendor, operation, self.redact(message or "rate limit"), status=status, code=code
            )
        raise self.error(operation, message or "request failed", status=status, code=code)

    def _describe_error(self, response: requests.Response) -> tuple[str | None, str]:
        try:
            code, message = error_fields(response.json())
        except ValueError:
            return None, self._text_excerpt(response)
        return code, message or ""

    def _probe(self) -> str:
        me = self.me()
        return f"account id {me.get('id')}"

    # -- account and keys -------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """``GET /auth/me``: the account the API key belongs to (``id``, ``email``)."""
        return self.call("GET", f"{API}/auth/me", operation="auth.me")

    def list_api_keys(self) -> list[Any]:
        """``GET /auth/key``: the account's API keys."""
        return self.call("GET", f"{API}/auth/key", operation="auth.key.list").get("keys", [])

    def create_api_key(self) -> str:
        """``POST /auth/key``: a new API key (at most 10 per account)."""
        return self.call("POST", f"{API}/auth/key", json={}, operation="auth.key.create", creates=True)["key"]

    def revoke_this_api_key(self) -> None:
        """Irreversibly revokes the key this connection uses (vendor semantics)."""
        self.call("DELETE", f"{API}/auth/key", operation="auth.key.revoke")

    # -- publications ----------------------------------------------------------------------

    def iter_publications(
        self,
        *,
        query: str | None = None,
        hashid: str | None = None,
        url: str | None = None,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """``GET /fbonline/publication``, paged: the account's publications.

        :param query: publications whose name or description contain it.
        :param hashid: the publication with this hash id.
        :param url: the publication with this URL.
        :param page_size: publications per request (at most 1000).
        """
        filters = {k: v for k, v in {"query": query, "hashid": hashid, "url": url}.items() if v}
        return iter(
            paged(
                lambda offset, count: self.publications_page(offset, count, **filters), min(page_size, 1000)
            )
        )

    def publications_page(self, offset: int, count: int, **filters: str) -> Page[dict[str, Any]]:
        """One page of the publication list (one request): the account poll's status listing.

        The page carries the answer's ``total`` ("the total number of publications matching your
        request, disregarding offset/count"), so a round stops after the last page instead of asking
        for an empty one (2000 publications: two requests, not three). Without an integer ``total``,
        paging ends at the first short page.

        :param offset: entries to skip
        :param count: entries to return (at most 1000)
        :param filters: ``query``, ``hashid`` or ``url``
        """
        body = self.call(
            "GET",
            f"{FB}/publication",
            operation="publication.list",
            params={**filters, "count": count, "offset": offset},
        )
        total = body.get("total")
        known = isinstance(total, int) and not isinstance(total, bool)
        return Page(body.get("publications", []), total if known else None)

    def get_publication(self, publication_id: str) -> dict[str, Any]:
        """``GET /fbonline/publication/{id}``: the publication object (``id``, ``hashId``, ``state``...).

        :param publication_id: the publication.
        """
        return self._field(
            self.call("GET", f"{FB}/publication/{publication_id}", operation="publication.get"),
            "publication",
            "publication.get",
        )

    def create_publication(self, **fields: Any) -> dict[str, Any]:
        """Fields: name, description, folder, domain, filename, and url or data (base64) for a first source.

        Once only: if the answer is lost, the one new publication with this name is adopted (its
        ``id``, ``url`` and ``createdSource``), and the call is sent again only if there is none.

        :param fields: the body fields, as the page names them (None values are left out).
        """
        name = fields.get("name")

        def create() -> dict[str, Any]:
            answer = self.call(
                "POST",
                f"{FB}/publication",
                json=drop_none(fields),
                operation="publication.create",
                creates=True,
            )
            self._field(answer, "id", "publication.create", str)
            return self._check_created_source(answer, fields, "publication.create")

        if not name:
            return create()

        def adopt(found: list[dict[str, Any]]) -> dict[str, Any]:
            sources = self.list_sources(found[0]["id"]) if fields.get("url") or fields.get("data") else []
            return {
                "id": found[0]["id"],
                "url": found[0].get("canonicalLink"),
                "adopted": True,
                **({"createdSource": {"id": sources[-1]["id"]}} if sources else {}),
            }

        return self.create_once(
            "publication.create",
            create,
            describe=f"publication name {name!r}",
            lookup=lambda: [p for p in self.iter_publications(query=name) if p.get("name") == name],
            identity=lambda publication: publication["id"],
            adopt=adopt,
        )

    def _field(self, body: dict[str, Any], key: str, operation: str, kind: type = dict) -> Any:
        """``body[key]`` as the document shows it, or an error at once naming the keys seen."""
        value = body.get(key)
        if not isinstance(value, kind) or (kind is str and not value):
            raise self.error(
                operation,
                f"unrecognised answer: expected {key!r} ({kind.__name__}), keys seen: {sorted(body)}",
            )
        return value

    def update_publication(self, publication_id: str, **fields: Any) -> dict[str, Any]:
        """Omitted fields stay unchanged; ``url``/``data`` adds a new source.

        :param publication_id: the publication.
        :param fields: the body fields of ``publication.create`` to change.
        """
        answer = self.call(
            "POST",
            f"{FB}/publication/{publication_id}",
            json=drop_none(fields),
            operation="publication.update",
            creates=True,
        )
        return self._check_created_source(answer, fields, "publication.update")

    def _check_created_source(
        self, answer: dict[str, Any], fields: dict[str, Any], operation: str
    ) -> dict[str, Any]:
        """Check the implicit source's own result: a failed one is the user's error, not a quiet success."""
        if not (fields.get("url") or fields.get("data")):
            return answer
        created = answer.get("createdSource", answer.get("CreatedSource"))
        if not isinstance(created, dict):
            raise self.error(operation, f"the answer has no 'createdSource' (keys seen: {sorted(answer)})")
        if created.get("success", created.get("Success", True)) is False:
            code, message = error_fields(created)
            gone = (
                " (the vendor deletes a publication whose only source failed)"
                if operation.endswith("create")
                else ""
            )
            raise self.error(
                f"{operation} source", f"the PDF was refused: {message or 'no message'}{gone}", code=code
            )
        if not created.get("id"):
            raise self.error(operation, f"'createdSource' has no 'id' (keys seen: {sorted(created)})")
        return answer

    def customize_publication(self, publication_id: str, **options: Any) -> dict[str, Any]:
        """``POST /fbonline/publication/{id}/customize``: looks and behaviour; returns the publication.

        :param publication_id: the publication.
        :param options: the page's fields (``hardCover``, ``setPasswordProtection``, ``theme``...), as named there.
        """
        return self.call(
            "POST",
            f"{FB}/publication/{publication_id}/customize",
            json=drop_none(options),
            operation="publication.customize",
        )["publication"]

    def delete_publication(self, publication_id: str) -> None:
        """``DELETE /fbonline/publication/{id}``.

        :param publication_id: the publication.
        """
        self.call("DELETE", f"{FB}/publication/{publication_id}", operation="publication.delete")

    # -- sources ---------------------------------------------------------------------------

    def list_sources(self, publication_id: str) -> list[dict[str, Any]]:
        """``GET /fbonline/publication/{id}/source``: the publication's sources (PDF versions).

        :param publication_id: the publication.
        """
        return self._field(
            self.call("GET", f"{FB}/publication/{publication_id}/source", operation="source.list"),
            "sources",
            "source.list",
            list,
        )

    def get_source(self, publication_id: str, source_id: str) -> dict[str, Any]:
        """``GET .../source/{sourceId}``: one source (``state``, ``stage``, ``progress``).

        :param publication_id: the publication.
        :param source_id: the source.
        """
        source = self._field(
            self.call("GET", f"{FB}/publication/{publication_id}/source/{source_id}", operation="source.get"),
            "source",
            "source.get",
        )
        if "progress" not in source and "Progress" in source:
            source["progress"] = source["Progress"]
        return source

    def add_source(
        self,
        publication_id: str,
        *,
        filename: str | None = None,
        url: str | None = None,
        data: bytes | None = None,
    ) -> str:
        """Add a PDF version by ``url`` or inline bytes (under the 1 MB request limit); returns the source id.

        :param publication_id: the publication.
        :param filename: the PDF's file name.
        :param url: a public URL of the PDF.
        :param data: the PDF's bytes (sent base64).
        """
        body = {"filename": filename, "url": url, "data": base64.b64encode(data).decode() if data else None}
        return self.create_once(
            "source.add",
            lambda: self._field(
                self.call(
                    "POST",
                    f"{FB}/publication/{publication_id}/source",
                    json=drop_none(body),
                    operation="source.add",
                    creates=True,
                ),
                "id",
                "source.add",
                str,
            ),
            describe=f"the sources of publication {publication_id}",
            lookup=lambda: self.list_sources(publication_id),
            identity=lambda source: source["id"],
            adopt=lambda found: found[-1]["id"],
        )

    # -- domains, folders -------------------------------------------------------------------

    def list_custom_domains(self) -> dict[str, Any]:
        """``GET /fbonline/custom-domains``: the whole answer (``customDomainsEnabled``, ``customDomains``)."""
        return self.call("GET", f"{FB}/custom-domains", operation="custom_domains.list")

    def list_folders(self) -> list[dict[str, Any]]:
        """``GET /fbonline/folders``: the account's folders (``id``, ``name``)."""
        return self.call("GET", f"{FB}/folders", operation="folders.list").get("folders", [])

    # -- publishing (the PublishingHook protocol) ---------------------------------------------

    def check_request(self, request: PublishRequest) -> None:
        """Refuse what FlippingBook cannot do, before any remote call.

        :param request: what the operator was asked to publish.
        """

    def publish_pdf(self, source: PdfSource, facts: PdfFacts, request: PublishRequest) -> Published:
        """Publish a PDF: a new publication, or a new source of ``request.publication_id``.

        Inline base64 while the request fits the 1 MB limit; else the PDF's http(s) URL, or a
        short-lived signed URL of an object-store file; else a clear error.

        :param source: the PDF, opened per attempt.
        :param facts: what the local check found (size, pages, encryption).
        :param request: the name, the publication to add a version to, the vendor's options.
        """
        fields: dict[str, Any] = {"filename": source.name}
        data: bytes | None = None
        if inline_request_fits(facts.size):
            with source.open() as stream:
                data = stream.read()
        else:
            url = source.http_url or source.signed_url()
            if not url:
                raise InvalidInputError(
                    f"{source.name} is {facts.size:,} bytes: too big for FlippingBook's 1 MB inline upload. Give the "
                    "PDF as an http(s) URL, or as an s3:// or gs:// path whose filesystem can sign a URL for "
                    "FlippingBook to fetch."
                )
            if url != source.http_url:
                mask_secret(url)
            fields["url"] = url
        if request.publication_id:
            source_id = self.add_source(request.publication_id, data=data, **fields)
            publication = self.get_publication(request.publication_id)
            return {
                "publication_id": request.publication_id,
                "version_id": source_id,
                "url": publication.get("canonicalLink"),
                "created": False,
            }
        created = self.create_publication(
            name=request.name,
            description=request.description,
            folder=request.folder,
            domain=request.domain,
            data=base64.b64encode(data).decode() if data else None,
            **fields,
        )
        return {
            "publication_id": created["id"],
            "version_id": (created.get("createdSource") or {}).get("id"),
            "url": created.get("url"),
            "created": True,
        }

    def publication_summary(self, publication_id: str) -> PublicationSummary:
        """Return the publication's ids, URL and page count.

        :param publication_id: the publication.
        """
        return publication_summary(self.get_publication(publication_id))

    def find_publications(self, name: str) -> list[PublicationSummary]:
        """Publications named exactly ``name``.

        :param name: the name to look for.
        """
        return [publication_summary(p) for p in self.iter_publications(query=name) if p.get("name") == name]

    # -- conversion status, as the sensors and triggers read it --------------------------------

    #: Every publication's ``state`` in pages of 1000: it carries a *first* conversion (the flag
    #: ``CompletedAllStages``: "at least one source converted"), not a later version's.
    status_listing: ClassVar[Listing | None] = Listing(
        "publications", "publications_page", "id", 1000, entries_at=("publications",)
    )
    #: A publication a steady round (its length unchanged) did not list moved between the round's pages
    #: by a change of its own (the list's order is not documented): a wait looks again next round
    #: before asking alone (``PdfConversionTrigger.listed_status``).
    unlisted_in_steady_list_moved: ClassVar[bool] = True

    def listed_conversion_status(
        self,
        entry: Mapping[str, Any] | None,
        publication_id: str,
        source_id: str | None = None,
        *,
        new_publication: bool = False,
    ) -> ConversionStatus | None:
        """Read :meth:`conversion_status` from the publication's entry in the list.

        None when the list cannot tell (not listed: vanished or shifted between pages; deleted; a later
        version, whose source only the source call shows): then ask :meth:`conversion_status`.

        :param entry: the publication as the list gives it (None: not listed)
        :param publication_id: the publication
        :param source_id: the source being converted
        :param new_publication: the source is the publication's first (the upload created it)
        """
        if entry is None or not isinstance(entry.get("state"), str):
            return None
        flags = {flag.strip() for flag in entry["state"].split(",")}
        if flags & {"Deleted", "Trashed"} or (source_id and not new_publication):
            return None
        if "CompletedAllStages" not in flags:
            return {"state": "running", "detail": f"{entry['state']} (publication list)"}
        return {
            "state": "success",
            "detail": "CompletedAllStages",
            "publication": publication_summary(dict(entry)),
        }

    def conversion_status(
        self, publication_id: str, source_id: str | None = None, *, summary: bool = True
    ) -> ConversionStatus:
        """``{"state": "running"|"success"|"failed", "detail": ..., "publication": {...}}``.

        While converting, one request per poll (the source); the publication is read once the source
        is done, so the summary carries the final page count; ``summary=False`` skips that read when
        the caller knows the URL and page count already.

        :param publication_id: the publication.
        :param source_id: the source to follow (the upload's ``version_id``); None: the publication.
        :param summary: read the publication's summary when it is done.
        """
        if source_id:
            try:
                source = self.get_source(publication_id, source_id)
            except NotFoundError:
                return {
                    "state": "failed",
                    "detail": f"publication {publication_id} or its source {source_id} "
                    "vanished (deleted after a failed first conversion?)",
                }
            state = source.get("state")
            if state not in SOURCE_STATES:
                raise self.error(
                    "source.get",
                    f"unrecognised source state {state!r} (keys seen: {sorted(source)}); "
                    f"the document lists {', '.join(sorted(SOURCE_STATES))}",
                )
            if state in ("CompletedWithErrors", "WaitManualQueue"):
                return {"state": "failed", "detail": f"source {source_id} ended in {state}"}
            if state != "CompletedAllStages":  # one request per poll while converting
                progress = f" {source.get('stage')} {source.get('progress')}" if source.get("stage") else ""
                return {"state": "running", "detail": f"{state}{progress}"}
            if not summary:
                return {"state": "success", "detail": state}
        try:
            publication = self.get_publication(publication_id)
        except NotFoundError:
            return {"state": "failed", "detail": f"publication {publication_id} vanished"}
        if not isinstance(publication.get("state"), str):
            raise self.error(
                "publication.get", f"the publication has no 'state' (keys seen: {sorted(publication)})"
            )
        flags = {flag.strip() for flag in publication["state"].split(",")}
        if flags & {"Deleted", "Trashed"}:
            return {"state": "failed", "detail": f"publication {publication_id} is {publication['state']}"}
        done = bool(source_id) or "CompletedAllStages" in flags
        return {
            "state": "success" if done else "running",
            "detail": "CompletedAllStages" if source_id else str(publication.get("state")),
            "publication": publication_summary(publication),
        }

    # -- watching: what the asset watchers read from the listings (triggers/watchers.py) ---------

    #: The publication events its listings tell; ``updated``: a converted publication's PDF changed.
    publication_events: ClassVar[tuple[str, ...]] = ("converted", "failed", "deleted", "updated")
    #: A publication gone from the list while converting failed: the vendor deletes a publication whose
    #: only source failed.
    vanished_while_converting: ClassVar[str] = "failed"

    #: Every tracked link of the account, 100 a page (no maximum count is documented).
    tracked_link_listing: ClassVar[Listing] = Listing("tracked_links", "tracked_links_page", "id", 100)

    @property
    def publication_watch_listings(self) -> tuple[Listing, ...]:
        """The list calls a publication watcher needs: the publication list the waits share."""
        return (cast("Listing", self.status_listing),)

    def tracked_links_page(self, offset: int, count: int) -> list[dict[str, Any]]:
        """One page of the account's tracked links (one request).

        :param offset: entries to skip
        :param count: entries to return
        """
        body = self.call(
            "GET",
            f"{FB}/tracked_links",
            operation="tracked_link.list",
            params={"count": count, "offset": offset},
        )
        return body.get("links", [])

    def watch_publications(
        self, rounds: Mapping[str, list[dict[str, Any]]], previous: Mapping[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Return each listed publication as a watcher compares it.

        ``state`` (``converted`` once the flag ``CompletedAllStages`` is set, ``deleted`` with
        ``Deleted``/``Trashed``, else ``converting``) and ``version`` (last PDF name, page count and
        modification time: the list has no version field).

        :param rounds: this poll's answers by listing name
        :param previous: the last poll's snapshots (unused here)
        """
        found = {}
        for pub in rounds[cast("Listing", self.status_listing).name]:
            flags = {f.strip() for f in str(pub.get("state") or "").split(",")}
            state = (
                "deleted"
                if flags & {"Deleted", "Trashed"}
                else "converted"
                if "CompletedAllStages" in flags
                else "converting"
            )
            marks = f"{pub.get('lastPdfName')}|{pub.get('totalPages')}|{pub.get('modificationTime')}"
            version = hashlib.sha256(marks.encode()).hexdigest()[:12]  # kept per object: keep it short
            found[str(pub["id"])] = {
                "state": state,
                "version": version,
                "name": pub.get("name"),
                "url": pub.get("canonicalLink") or pub.get("url"),
            }
        return found

    def watch_tracked_links(self, links: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Return each listed link as a watcher compares it.

        ``visits`` and ``last_viewed`` (``shortStats.fullStats``), ``until`` (an enabled
        ``triggers.onNotOpenedUntil``), ``name`` (title), ``publication`` (its id) and ``url``.

        :param links: the link list's entries
        """
        found = {}
        for link in links:
            if "Deleted" in str(link.get("state") or ""):
                continue
            stats = (link.get("shortStats") or {}).get("fullStats") or {}
            not_opened = (link.get("triggers") or {}).get("onNotOpenedUntil") or {}
            found[str(link["id"])] = {
                "visits": int(stats.get("visits") or 0),
                "last_viewed": stats.get("lastViewedAt"),
                "until": not_opened.get("until") if not_opened.get("enabled") else None,
                "name": link.get("title"),
                "publication": ((link.get("publication") or {}).get("id") or {}).get("id"),
                "url": tracked_link_url(link) if link.get("urlName") or link.get("url") else None,
            }
        return found


__all__ = [
    "FB",
    "REQUEST_LIMIT_BYTES",
    "FlippingBookHook",
    "error_fields",
    "VendorApiError",
    "inline_request_fits",
    "iso8601",
    "publication_summary",
    "tracked_link_url",
]
