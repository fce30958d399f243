"""Flipsnack API hook (the signed ``v1`` API: one path, ``action`` parameter, MD5 signature).

The vendor puts ``apiKey`` and ``signature`` in the query string of every GET; the secret itself is
never sent. Both are masked, and urllib3's DEBUG request lines are redacted at the source.

Every request carries ``apiKey``, ``action`` and ``signature`` = MD5(secret + name1value1 + ...)
over all parameters except ``signature`` and ``file``, sorted by name (ordinal order; the
documented names are all lower-camel-case, so ordinal and case-insensitive order agree). Values
are signed raw, before URL encoding; booleans are sent and signed as ``true``/``false``.

Reads use GET on ``https://api.flipsnack.com/v1/``; ``collection.create`` is a streamed multipart
POST to the upload host (extra ``upload_host``; unset, derived from the API host: see
:func:`derive_upload_url`).
Anything but code 20 is an error; 31/32 (per-second / per-minute limit) are retried, 22
(maintenance) too. Pacing: 5 per second and 60 per minute per key. Code 38 ("Collection is in
processing state", api-status-codes) means "not yet": the package status reads it as running, and
``collection.update`` / ``collection.getEmbed`` wait for the conversion (extras
``processing_poll_interval``, default 10 s, and ``processing_timeout``, default 3600 s) and call again.

Where the docs are cut off: collection items are read from ``items`` (or ``flipbooks``), each with
``status`` processing/complete/failed (FS-HELP); any other shape fails at once with the keys seen.
``collection.getList`` ranges are sent as ``from`` and ``to`` (inclusive end index), ``list_page_size``
(extra, default 1000) collections a request; its ``collectionCount`` is read as the whole list's length
only where it cannot be this range's own (it exceeds the range's length): see :meth:`collections_page`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, cast
from urllib.parse import urlsplit, urlunsplit

from requests_toolbelt import MultipartEncoder

if TYPE_CHECKING:
    import requests

    from airflow_provider_flipbook.utils.files import PdfSource
    from airflow_provider_flipbook.utils.pdf import PdfFacts

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook._compat import AirflowException, mask_secret
from airflow_provider_flipbook.exceptions import (
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    TransientApiError,
    VendorApiError,
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
from airflow_provider_flipbook.utils.ratelimit import SlidingWindow
from airflow_provider_flipbook.utils.urls import origin

OK = 20
NOT_FOUND_CODES = {43, 46}
PROCESSING = 38
ITEM_KEYS = ("items", "flipbooks")
ITEM_STATUSES = {"processing", "complete", "failed"}
PACKAGE_STATUSES = {"PROCESSING": "running", "COMPLETE": "success", "FAILED": "failed"}


class CollectionProcessingError(VendorApiError):
    """Code 38: the collection is still converting; the call may be made again once it is done."""


def sign(secret: str, params: Mapping[str, Any]) -> str:
    """Compute the vendor's request signature (see module docstring)."""
    pieces = [secret] + [
        f"{name}{_value(params[name])}" for name in sorted(params) if name not in ("signature", "file")
    ]
    return hashlib.md5("".join(pieces).encode("utf-8")).hexdigest()  # noqa: S324 - the vendor's scheme


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class _RedactQuery(logging.Filter):
    """urllib3 logs request lines at DEBUG, query string included: hide the key and signature there."""

    pattern = re.compile(r"((?:apiKey|signature)=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "apiKey=" in message or "signature=" in message:
            record.msg, record.args = self.pattern.sub(r"\1***", message), ()
        return True


_URLLIB3_LOG = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _RedactQuery) for f in _URLLIB3_LOG.filters):
    _URLLIB3_LOG.addFilter(_RedactQuery())


def _items(collection: Mapping[str, Any]) -> list[Any]:
    for key in ITEM_KEYS:
        if isinstance(collection.get(key), list):
            return collection[key]
    return []


def item_statuses(collection: Mapping[str, Any]) -> list[str]:
    """Return the items' lowercase statuses, or [] when the answer has no item list we know."""
    statuses = [
        str(item.get("status", "")).lower() for item in _items(collection) if isinstance(item, Mapping)
    ]
    if not statuses and isinstance(collection.get("status"), str):
        statuses = [collection["status"].lower()]
    return statuses


class FlipsnackHook(FlipbookBaseHook):
    """Flipsnack: collections (create by upload, get, list, update, delete, embed, stats, HTML package).

    Connection: login = API key, password = API secret; host optional (default
    ``https://api.flipsnack.com``); extra ``upload_host`` (default: derived from the host,
    ``https://upload.flipsnack.com`` for Flipsnack's own).
    """

    conn_name_attr = "flipsnack_conn_id"
    default_conn_name = "flipsnack_default"
    conn_type = "flipsnack"
    hook_name = "Flipsnack"
    vendor = "Flipsnack"
    publication_kind = "collection"  # its asset URI kind
    default_base_url: ClassVar[str] = "https://api.flipsnack.com"
    default_upload_url: ClassVar[str] = "https://upload.flipsnack.com"
    default_limits = (SlidingWindow(5, 1.0), SlidingWindow(60, 60.0))
    pdf_limits = PdfLimits(500 * 1024 * 1024, 1000, accepts_password=False)  # documented: 500 MB, 1000 pages

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads conn-fields
        """Return the connection form's extra fields, for Airflow 3.1 (3.2+ reads the provider info)."""
        return connection_extras.form_widgets(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:  # Airflow 3.1; 3.2+ reads ui-field-behaviour
        """Return the connection form's labels and hidden fields for Airflow 3.1 (3.2+: the provider info)."""
        return connection_extras.field_behaviour(cls.conn_type)

    def secrets(self) -> list[str]:
        """Return the secret and the API key.

        The key travels in URLs by the vendor's design, never in messages.
        """
        return [*super().secrets(), *([self.connection.login] if self.connection.login else [])]

    @cached_property
    def upload_url(self) -> str:
        """The upload host: the extra ``upload_host``.

        Unset, derived from the API host (:func:`derive_upload_url`), or an error naming both before
        anything is sent.
        """
        configured = self.setting("upload_host")
        if configured:
            configured = str(configured).rstrip("/")
            return configured if "://" in configured else "https://" + configured  # as the host
        derived = derive_upload_url(self.base_url)
        if derived is None:
            raise AirflowException(
                f"Connection {self.conn_id!r} (Flipsnack) points its API at {origin(self.base_url)} but "
                "sets no upload_host, and none can be derived from it (Flipsnack's own hosts are "
                f"{self.default_base_url} and {self.default_upload_url}): set the extra upload_host to "
                "the host that takes collection.create uploads"
            )
        if derived != self.default_upload_url:
            self.log.info(
                "Connection %r sets no upload_host: uploading to %s, derived from its API host",
                self.conn_id,
                derived,
            )
        return derived

    def signed(self, action: str, params: Mapping[str, Any]) -> dict[str, str]:
        """Return the parameters to send: ``apiKey``, ``action``, the given ones, then ``signature``.

        A None among the given ones is left out.

        :param action: the vendor's action, e.g. ``collection.getList``.
        :param params: the action's parameters.
        """
        api_key = self._require(self.connection.login, "login", "Flipsnack API key")
        secret = self._require(self.connection.password, "password", "Flipsnack API secret")
        query = {k: _value(v) for k, v in params.items() if v is not None}
        query.update(apiKey=api_key, action=action)
        query["signature"] = sign(secret, query)
        mask_secret(query["signature"])
        mask_secret(api_key)  # travels in the URL by the vendor's design: keep it out of logs
        return query

    # -- generic call ---------------------------------------------------------------------

    def call(self, action: str, **params: Any) -> Any:
        """Call any non-upload action, e.g. ``call("collection.getStats", collectionHash="abc")``; returns ``data``.

        :param action: the vendor's action.
        :param params: the action's parameters (signed, sent in the query).
        """
        query = self.signed(action, params)
        return self._request(
            action, "GET", self.base_url + "/v1/", lambda r: self._parse(r, action), params=query
        )

    def _parse(self, response: requests.Response, action: str) -> Any:
        body = self._json(response, action)
        if not isinstance(body, dict) or "code" not in body:
            raise self.error(action, "answer has no 'code'", status=response.status_code)
        try:
            code = int(body["code"])
        except (TypeError, ValueError):
            raise self.error(
                action, f"non-numeric code {body['code']!r}", status=response.status_code
            ) from None
        if code == OK:
            return body.get("data")
        status, kwargs = str(body.get("status") or "error"), {"code": code, "status": response.status_code}
        if code in (31, 32):
            limit = self.limits[0 if code == 31 else -1] if self.limits else None
            window = limit.period if isinstance(limit, SlidingWindow) else 1.0
            raise RateLimitError(self.vendor, action, status, retry_after=window, **kwargs)
        if code == 22:
            raise TransientApiError(self.vendor, action, status, **kwargs)
        if code == PROCESSING:
            raise CollectionProcessingError(self.vendor, action, status, **kwargs)
        if code in NOT_FOUND_CODES:
            raise NotFoundError(self.vendor, action, status, **kwargs)
        raise self.error(action, status, **kwargs)

    def _describe_error(self, response: requests.Response) -> tuple[int | None, str]:
        try:
            body = response.json()
            return body.get("code"), str(body.get("status", ""))
        except (ValueError, AttributeError):
            return None, self._text_excerpt(response)

    def _probe(self) -> str:
        _ = self.upload_url  # an upload host that cannot be known is the first thing to report
        stats = self.user_stats()
        self.probe_upload_host()
        return (
            f"{stats.get('api_uploads_left', '?')} API uploads left this month; "
            f"upload host {self.upload_url} answers"
        )

    def probe_upload_host(self) -> None:
        """Prove that the host a task will upload to is a Flipsnack API, creating nothing.

        An unsigned GET on the upload host, which creates nothing (the vendor answers code 40, "Bad
        request", to a GET there).
        """

        def parse(response: requests.Response) -> None:
            body = self._json(response, "upload host check")
            if not isinstance(body, dict) or "code" not in body:
                raise self.error(
                    "upload host check",
                    f"{origin(self.upload_url)} did not answer as a Flipsnack API "
                    f"(HTTP {response.status_code}, keys seen: {_keys(body)}): check the extra upload_host",
                    status=response.status_code,
                )

        self._request("upload host check", "GET", self.upload_url + "/v1/", parse)

    # -- collections -------------------------------------------------------------------------

    def create_collection(
        self,
        *,
        open_file: Callable[[], BinaryIO] | None = None,
        filename: str = "document.pdf",
        file_url: str | None = None,
        title: str | None = None,
        description: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Upload one document (``open_file`` is called per attempt and streamed) or a ``file_url``.

        With a title it takes effect once: a lost answer adopts the collection of that title, so an
        upload never costs the monthly quota twice.

        :param open_file: opens the PDF (called per attempt).
        :param filename: the file name sent with it.
        :param file_url: a public URL of the PDF, instead of a file.
        :param title: the collection's title.
        :param description: the collection's description.
        :param options: other ``collection.create`` fields, as the vendor names them.
        """
        if open_file is None and not file_url:
            raise ValueError("collection.create needs a file or a file_url")
        fields = self.signed(
            "collection.create", {"fileUrl": file_url, "title": title, "description": description, **options}
        )
        encoders: list[MultipartEncoder] = []

        def body() -> MultipartEncoder:
            parts: dict[str, Any] = dict(fields)
            if open_file is not None:
                parts["file"] = (filename, open_file(), "application/pdf")
            encoders.append(MultipartEncoder(fields=parts))
            return encoders[-1]

        def create() -> dict[str, Any]:
            return self._request(
                "collection.create",
                "POST",
                self.upload_url + "/v1/",
                lambda r: self._parse(r, "collection.create"),
                body=body,
                headers=lambda: {"Content-Type": encoders[-1].content_type},
                creates=True,
            )

        if not title:
            return create()
        # Once only: a lost answer is reconciled by title, so a second upload never costs quota twice.
        return self.create_once(
            "collection.create",
            create,
            describe=f"collection title {title!r}",
            lookup=lambda: [
                c for c in self.iter_collections(query=title) if c.get("collectionTitle") == title
            ],
            identity=lambda collection: collection.get("collectionHash"),
            adopt=lambda found: self.get_collection(found[0]["collectionHash"]),
        )

    def get_collection(self, collection_hash: str) -> dict[str, Any]:
        """``collection.getCollection``: the collection and its items.

        :param collection_hash: the collection.
        """
        return self.call("collection.getCollection", collectionHash=collection_hash)

    @property
    def list_page_size(self) -> int:
        """Collections asked for per ``collection.getList`` request (extra ``list_page_size``).

        The page that documents the range is cut off, so the size is ours to choose and the doctor's to
        check.
        """
        size = self.setting("list_page_size")
        if size < 1:
            raise AirflowException(
                f"Connection {self.conn_id!r}: extra 'list_page_size' must be at least 1, got {size}"
            )
        return int(size)

    def iter_collections(
        self, *, collection_status: str | None = None, query: str | None = None, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """``collection.getList``, paged by ``from``/``to``: the account's collections.

        :param collection_status: only collections in this status.
        :param query: collections whose title contains it.
        :param page_size: collections per request; None: the extra ``list_page_size``.
        """
        return iter(  # a short page ends it; a repeated page or the cap warns
            paged(
                lambda start, count: self.collections_page(
                    start, count, collection_status=collection_status, query=query
                ),
                page_size or self.list_page_size,
            )
        )

    def collections_page(
        self, start: int, count: int, *, collection_status: str | None = None, query: str | None = None
    ) -> Page[dict[str, Any]]:
        """One page of ``collection.getList`` (one request): the account poll's status listing.

        ``collectionCount`` (seen in peer code, not on the cut-off page) is taken as the whole list's
        length only where it exceeds this page's length, which a count of the range itself never
        does; then the poll asks for no empty page after the last one. Anything else (absent, not an
        integer, or no larger than the page) is not read, and paging ends at the first short page.

        :param start: entries to skip (``from``)
        :param count: entries to return
        :param collection_status: ``public``, ``editable`` or ``unlisted``; all when None
        :param query: words searched in titles and descriptions
        """
        data = (
            self.call(
                "collection.getList",
                collectionStatus=collection_status,
                query=query,
                **{"from": start, "to": start + count - 1},
            )
            or {}
        )
        page = data.get("collections") if isinstance(data, Mapping) else None
        if not isinstance(page, list):
            raise self.error(
                "collection.getList", f"expected a 'collections' list (keys seen: {_keys(data)})"
            )
        listed = data.get("collectionCount")
        known = isinstance(listed, int) and not isinstance(listed, bool) and listed > len(page)
        return Page(page, cast("int", listed) if known else None)

    def update_collection(self, collection_hash: str, **fields: Any) -> dict[str, Any]:
        """Fields: title, description, collectionWidth, collectionHeight, collectionStatus.

        Publishing (``public``/``unlisted``) gives the collection a new, final hash: read it back.

        :param collection_hash: the collection.
        :param fields: the fields to change, as the vendor names them.
        """
        return self.when_ready("collection.update", collectionHash=collection_hash, **fields)

    def delete_collection(self, collection_hash: str) -> None:
        """``collection.deleteCollection``.

        :param collection_hash: the collection.
        """
        self.call("collection.deleteCollection", collectionHash=collection_hash)

    def get_embed(self, collection_hash: str, **options: Any) -> str:
        """``collection.getEmbed``: the embed code (waits while the collection converts).

        :param collection_hash: the collection.
        :param options: ``https``, ``responsive``, ``startPage``, ``width``... as the vendor names them.
        """
        data = self.when_ready("collection.getEmbed", collectionHash=collection_hash, **options)
        if not isinstance(data, Mapping) or not isinstance(data.get("embedCode"), str):
            raise self.error("collection.getEmbed", f"answer has no 'embedCode' (keys seen: {_keys(data)})")
        return data["embedCode"]

    def when_ready(self, action: str, **params: Any) -> Any:
        """Call ``action``; while the vendor answers code 38 (the collection converts), wait and call again.

        :param action: the vendor's action.
        :param params: the action's parameters.
        """
        speed = self.setting("pacing_speed")
        interval = self.setting("processing_poll_interval") / speed
        deadline = time.monotonic() + self.setting("processing_timeout") / speed
        while True:
            try:
                return self.call(action, **params)
            except CollectionProcessingError:
                if time.monotonic() + interval > deadline:
                    raise
                self.log.info(
                    "%s: the collection is still processing; asking again in %.1f s", action, interval
                )
                time.sleep(interval)

    def get_collection_stats(
        self,
        collection_hash: str,
        *,
        start_date: str | None = None,
        end_date: str | None = None,
        include_page_stats: bool = False,
    ) -> dict[str, Any]:
        """``collection.getStats``: impressions, views, time spent, downloads (and per page).

        :param collection_hash: the collection.
        :param start_date: the first day, ``YYYY-MM-DD``.
        :param end_date: the last day, ``YYYY-MM-DD``.
        :param include_page_stats: add the per-page figures.
        """
        return self.call(
            "collection.getStats",
            collectionHash=collection_hash,
            startDate=start_date,
            endDate=end_date,
            includePageStats=include_page_stats or None,
        )

    def download_html(self, collection_hash: str) -> dict[str, Any]:
        """One call: starts the package the first time; ``status`` PROCESSING, COMPLETE or FAILED.

        :param collection_hash: the collection.
        """
        data = self.call("collection.downloadHTML", collectionHash=collection_hash)
        if not isinstance(data, Mapping) or str(data.get("status", "")).upper() not in PACKAGE_STATUSES:
            raise self.error(
                "collection.downloadHTML",
                "unrecognised answer: expected 'status' PROCESSING, "
                f"COMPLETE or FAILED (keys seen: {_keys(data)}, status {_status(data)!r})",
            )
        data = dict(data)
        if data.get("resourceUrl"):
            mask_secret(data["resourceUrl"])  # a signed, short-lived URL
        return data

    def user_stats(self) -> dict[str, Any]:
        """``user.getStats``: the account's figures (``api_uploads_left``...)."""
        return self.call("user.getStats") or {}

    # -- publishing (the PublishingHook protocol) ---------------------------------------------

    def check_request(self, request: PublishRequest) -> None:
        """Refuse a new version (Flipsnack cannot add one to a collection) and an unknown upload host.

        :param request: what the operator was asked to publish.
        """
        _ = self.upload_url  # an upload host that cannot be known fails here, before any call
        if request.publication_id:
            raise InvalidInputError(
                "Flipsnack cannot add a version to an existing collection: leave publication_id "
                "empty to create a new collection"
            )

    def publish_pdf(self, source: PdfSource, facts: PdfFacts, request: PublishRequest) -> Published:
        """Publish a PDF with a streamed multipart ``collection.create``; the title defaults to the name.

        :param source: the PDF, opened per attempt.
        :param facts: what the local check found (size, pages, encryption).
        :param request: the name, title and description.
        """
        created = self.create_collection(
            open_file=source.open,
            filename=source.name,
            title=request.title or request.name,
            description=request.description,
        )
        if not isinstance(created, Mapping) or not created.get("collectionHash"):
            raise self.error(
                "collection.create", f"the answer has no 'collectionHash' (keys seen: {_keys(created)})"
            )
        items = [i for i in _items(created) if isinstance(i, Mapping)] or [{}]
        return {
            "publication_id": created["collectionHash"],
            "version_id": items[0].get("flipbookHash"),
            "url": created.get("url"),
            "created": True,  # Flipsnack cannot add a version to a collection
        }

    def publication_summary(self, publication_id: str) -> PublicationSummary:
        """Return the collection's hash, title, URL and page count.

        :param publication_id: the collection's hash.
        """
        return collection_summary(self.get_collection(publication_id))

    def find_publications(self, name: str) -> list[PublicationSummary]:
        """Find the collections titled exactly ``name``.

        :param name: the title to look for.
        """
        return [
            collection_summary(c)
            for c in self.iter_collections(query=name)
            if c.get("collectionTitle") == name
        ]

    # -- conversion status, as the sensors and triggers read it --------------------------------

    def conversion_status(
        self, collection_hash: str, version_id: str | None = None, *, summary: bool = True
    ) -> ConversionStatus:
        """``summary`` is accepted for symmetry: the status call already carries the collection.

        :param collection_hash: the collection.
        :param version_id: unused (a collection has one version).
        :param summary: unused.
        """
        try:
            collection = self.get_collection(collection_hash)
        except NotFoundError as error:
            return {"state": "failed", "detail": str(error)}
        return self._collection_status(collection, "collection.getCollection")

    #: ``collection.getList`` carries each collection's items and their statuses, as getCollection does.
    status_listing: ClassVar[Listing | None] = Listing(
        "collections",
        "collections_page",
        "collectionHash",
        page_size_from="list_page_size",
        entries_at=("data", "collections"),
    )

    def listed_conversion_status(
        self,
        entry: Mapping[str, Any] | None,
        publication_id: str,
        version_id: str | None = None,
        *,
        new_publication: bool = False,
    ) -> ConversionStatus | None:
        """Read :meth:`conversion_status` from the collection's entry in ``collection.getList``.

        None when it is not listed (gone, or shifted between pages): then ask :meth:`conversion_status`.

        :param entry: the collection as the list gives it (None: not listed)
        :param publication_id: the collection hash
        :param version_id: unused (a collection has one version)
        :param new_publication: unused
        """
        if entry is None or not any(key in entry for key in ITEM_KEYS):
            return None  # the document does not show getList's fields: without items, ask getCollection
        return self._collection_status(entry, "collection.getList")

    def _collection_status(self, collection: Any, operation: str) -> ConversionStatus:
        statuses = item_statuses(collection) if isinstance(collection, Mapping) else []
        if (
            not statuses
            and isinstance(collection, Mapping)
            and any(collection.get(k) == [] for k in ITEM_KEYS)
        ):
            return {
                "state": "running",
                "detail": "no items yet",
                "publication": collection_summary(collection),
            }
        if not statuses or not set(statuses) <= ITEM_STATUSES:
            raise self.error(
                operation,
                "unrecognised answer: expected a list of items under "
                f"{' or '.join(ITEM_KEYS)} with status processing, complete or failed "
                f"(keys seen: {_keys(collection)}, statuses {statuses})",
            )
        overview = collection_summary(collection)
        if statuses and all(s == "complete" for s in statuses):
            return {"state": "success", "detail": "complete", "publication": overview}
        if "failed" in statuses:
            return {"state": "failed", "detail": "the flipbook's conversion failed", "publication": overview}
        return {"state": "running", "detail": ",".join(statuses) or "processing", "publication": overview}

    def package_status(self, collection_hash: str) -> dict[str, Any]:
        """Return the download package's status; "running" too while the collection converts.

        The package cannot be asked for while the collection converts (code 38): that is "running" too.

        :param collection_hash: the collection.
        """
        try:
            data = self.download_html(collection_hash)
        except CollectionProcessingError:
            return {"state": "running", "detail": "collection processing", "resource_url": None}
        status = str(data["status"]).upper()
        if status == "COMPLETE" and not data.get("resourceUrl"):
            raise self.error(
                "collection.downloadHTML", f"COMPLETE without 'resourceUrl' (keys seen: {_keys(data)})"
            )
        return {"state": PACKAGE_STATUSES[status], "detail": status, "resource_url": data.get("resourceUrl")}

    # -- watching: what the asset watchers read from the listings (triggers/watchers.py) ---------

    #: The publication events its listings tell, and what a collection gone while converting was.
    publication_events: ClassVar[tuple[str, ...]] = ("converted", "failed", "deleted")
    vanished_while_converting: ClassVar[str] = "deleted"

    @property
    def publication_watch_listings(self) -> tuple[Listing, ...]:
        """The list calls a publication watcher needs: the collection list the waits share."""
        return (cast("Listing", self.status_listing),)

    def watch_publications(
        self, rounds: Mapping[str, list[dict[str, Any]]], previous: Mapping[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Return each listed collection as a watcher compares it.

        ``converted`` when every item is ``complete``, ``failed`` when one ``failed``, else
        ``converting``.

        :param rounds: this poll's answers by listing name
        :param previous: the last poll's snapshots (unused here)
        """
        found = {}
        for collection in rounds[cast("Listing", self.status_listing).name]:
            statuses = item_statuses(collection)
            state = (
                "failed"
                if "failed" in statuses
                else "converted"
                if statuses and all(s == "complete" for s in statuses)
                else "converting"
            )
            summary = collection_summary(collection)
            found[str(collection.get("collectionHash"))] = {
                "state": state,
                "version": "",
                "name": summary.get("name"),
                "url": summary.get("url"),
            }
        return found


def derive_upload_url(api_url: str) -> str | None:
    """Return the upload host that goes with an API host, or None.

    Flipsnack's own pair is ``api.flipsnack.com`` and ``upload.flipsnack.com``, so ``api.<domain>``
    gives ``upload.<domain>``; the sandbox serves its upload host at ``<prefix>/flipsnack-upload``
    beside ``<prefix>/flipsnack``. None for any other.
    """
    parts = urlsplit(api_url)
    host = parts.hostname or ""
    if host.startswith("api."):
        netloc = parts.netloc.replace(host, "upload." + host[len("api.") :], 1)
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    if parts.path.rstrip("/").endswith("/flipsnack"):
        return api_url.rstrip("/") + "-upload"
    return None


def _keys(data: Any) -> list[str] | str:
    return sorted(map(str, data)) if isinstance(data, Mapping) else type(data).__name__


def _status(data: Any) -> Any:
    return data.get("status") if isinstance(data, Mapping) else None


def collection_summary(collection: Mapping[str, Any]) -> PublicationSummary:
    """Build the small JSON for XCom: the collection's hash, title, URL and page count (summed over items)."""
    items = [i for i in _items(collection) if isinstance(i, Mapping)]
    return {
        "publication_id": collection.get("collectionHash"),
        "name": collection.get("collectionTitle"),
        "url": collection.get("url") or collection.get("collectionUrl"),
        "total_pages": sum(int(i.get("pages") or 0) for i in items) or None,
        "state": ",".join(item_statuses(collection)),
    }
