"""UploadPdfOperator: publish a PDF on FlippingBook, iPaper or Flipsnack, chosen by the connection type."""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict, cast

from typing_extensions import NotRequired

from airflow_provider_flipbook._compat import (
    BaseOperator,
    conf,
    mask_secret,
    task_state_store,
)
from airflow_provider_flipbook.exceptions import InvalidInputError
from airflow_provider_flipbook.hooks.publishing import (
    ConversionStatus,
    PublicationBusy,
    PublishingHook,
    PublishRequest,
)
from airflow_provider_flipbook.links import ViewFlipbookLink
from airflow_provider_flipbook.utils.lineage import DeclaresLineage, record
from airflow_provider_flipbook.utils.urls import public_url

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_KEY = "flipbook_upload"
#: The asset kind of what an upload publishes, per vendor (see airflow_provider_flipbook.assets).


class UploadResult(TypedDict):
    """The operator's XCom: the vendor's ids (and, once converted, the page count and final state)."""

    vendor: str
    conn_id: str
    publication_id: str
    version_id: str | None
    url: str | None
    name: str
    pages: int
    total_pages: NotRequired[int | None]
    conversion: NotRequired[str]
    created: NotRequired[bool]


class UploadPdfOperator(DeclaresLineage, BaseOperator):
    """Upload a PDF as a new publication, or as a new version of ``publication_id``.

    Before any remote call the file is checked: it exists, is a PDF, is not encrypted (iPaper takes
    ``pdf_password``), and is within the vendor's size and page limits.

    * FlippingBook: inline base64 while the request fits the 1 MB limit; otherwise the PDF's http(s)
      URL, or a short-lived signed URL of an object-store file (s3, gcs); otherwise a clear error.
      Options: ``description``, ``folder``, ``domain``.
    * iPaper: the paper under ``parent_category_id`` (default: the account's root, from the
      connection extra ``root_paper_id`` or looked up) with URL name ``url_name`` (default from
      ``name``) is reused if it exists and created if not (or ``publication_id`` names it), then
      ``Ripper.ProcessPDF`` with a streamed body. ``version_id`` is the job GUID if iPaper gives one,
      else a marker ``queued@<UTC time>/<digest of the pages before>`` for the status check.
    * Flipsnack: streamed multipart ``collection.create`` (``title`` defaults to ``name``). Flipsnack
      cannot add a version to a collection, so ``publication_id`` is refused there.

    The created ids are written to the task state store and to XCom before any waiting, so a retry
    resumes instead of publishing twice: a running or finished conversion is waited for again, a
    failed one is uploaded afresh.

    Lineage: input the PDF, output the publication (``flippingbook://``, ``ipaper://`` or
    ``flipsnack://`` asset), CREATE for a new one and OVERWRITE for a new version; reported to
    hook-level lineage and, with the ``openlineage`` extra, as OpenLineage facets.

    :param conn_id: a flippingbook, ipaper or flipsnack connection (templated).
    :param pdf: the PDF: a local path, an http(s) URL, an object-store URI or ObjectStoragePath (templated).
    :param name: the publication's name (templated; default: the file name).
    :param publication_id: add a new version to this publication instead of creating one (templated).
    :param wait_for_conversion: wait until the vendor has converted the PDF, and return its summary.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between two status calls while waiting.
    :param conversion_timeout: seconds to wait for the conversion.
    :param description: FlippingBook: the publication's description (templated).
    :param folder: FlippingBook: the folder id (templated).
    :param domain: FlippingBook: the custom domain (templated).
    :param parent_category_id: iPaper: the category of the paper (templated; default: the root).
    :param url_name: iPaper: the paper's URL name (templated; default: from ``name``).
    :param title: Flipsnack: the collection's title (templated; default: ``name``).
    :param pdf_password: iPaper: the PDF's password (a secret: not templated, never logged).
    :param kwargs: the other BaseOperator arguments.
    :return: ``{"vendor", "conn_id", "publication_id", "version_id", "url", "name", "pages"}``
        (plus ``total_pages`` and ``conversion`` once converted)
    """

    template_fields = (
        "conn_id",
        "pdf",
        "name",
        "publication_id",
        "description",
        "folder",
        "domain",
        "parent_category_id",
        "url_name",
        "title",
    )
    operator_extra_links = (ViewFlipbookLink(),)
    ui_color = "#d7ecfb"

    def __init__(
        self,
        *,
        conn_id: str,
        pdf: Any,
        name: str | None = None,
        publication_id: str | None = None,
        wait_for_conversion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        conversion_timeout: float = 3600.0,
        description: str | None = None,
        folder: str | None = None,
        domain: str | None = None,
        parent_category_id: int | None = None,
        url_name: str | None = None,
        title: str | None = None,
        pdf_password: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id, self.pdf, self.name, self.publication_id = conn_id, pdf, name, publication_id
        self.wait_for_conversion, self.deferrable = wait_for_conversion, deferrable
        self.poll_interval, self.conversion_timeout = poll_interval, conversion_timeout
        self.description, self.folder, self.domain = description, folder, domain
        self.parent_category_id, self.url_name, self.title = parent_category_id, url_name, title
        self.pdf_password = pdf_password  # a secret: deliberately not templated

    # -- execute --------------------------------------------------------------------------------

    def execute(self, context: Context) -> UploadResult:
        """Check the PDF, publish it (or resume the previous try's upload), and wait if asked.

        :param context: the task context.
        """
        from airflow_provider_flipbook.hooks import publishing_hook

        hook = publishing_hook(self.conn_id)
        store = task_state_store(context)  # None below Airflow 3.3: no resume
        hook.journal = store  # a retry after a lost answer looks before it creates again
        result = self._resume(hook, store)
        resumed = result is not None
        if result is None:
            try:
                result = self._publish(hook)
            except PublicationBusy as busy:  # only when deferrable: wait in the triggerer, then publish
                self._defer_until_free(busy)
            if store is not None:
                store.set(STATE_KEY, result)
        self._log_published(hook.vendor, result, "Resumed the upload of" if resumed else "Published")
        ti = context.get("ti")
        if ti is not None:
            for key in ("publication_id", "version_id"):
                ti.xcom_push(key=key, value=result.get(key))
            if result.get("url"):
                ti.xcom_push(key="flipbook_url", value=result["url"])
        if not self.wait_for_conversion:
            self._declare(hook, result)
            return result
        if self.deferrable:
            from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

            self.log.info(
                "Deferring: the triggerer waits for the %s conversion of %s (a check every %g s, "
                "for up to %g s)",
                hook.vendor,
                result["publication_id"],
                self.poll_interval,
                self.conversion_timeout,
            )
            # The upload travels in the trigger's event: Airflow 3.3.2's dag.test() drops defer() kwargs.
            self.defer(
                trigger=PdfConversionTrigger(
                    conn_id=self.conn_id,
                    publication_id=result["publication_id"],
                    version_id=result.get("version_id"),
                    poll_interval=self.poll_interval,
                    deadline=time.time() + self.conversion_timeout,
                    new_publication=bool(result.get("created")),
                    upload=result,
                ),
                method_name="execute_complete",
                timeout=None,
            )
        from airflow_provider_flipbook.sensors.base import poll_until_done

        status = poll_until_done(
            lambda: hook.conversion_status(result["publication_id"], result.get("version_id")),
            poll_interval=self.poll_interval,
            timeout=self.conversion_timeout,
            log=self.log,
            what=f"{hook.vendor} conversion of {result['publication_id']}",
        )
        return self._converted(context, result, status, hook)

    def _defer_until_free(self, busy: PublicationBusy) -> NoReturn:
        module, _, name = busy.wait_trigger.rpartition(".")  # the hook names the vendor's wait
        trigger_class = getattr(importlib.import_module(module), name)
        self.log.info("%s: waiting for it in the triggerer before uploading", busy.detail)
        self.defer(
            trigger=trigger_class(
                conn_id=self.conn_id,
                poll_interval=self.poll_interval,
                deadline=time.time() + self.conversion_timeout,
                **busy.wait_target,
            ),
            method_name="execute_when_free",
            timeout=None,
        )

    def execute_when_free(self, context: Context, event: dict[str, Any] | None = None) -> UploadResult:
        """Resumed after an earlier job on the publication finished: publish as ``execute`` does.

        :param context: the task context.
        :param event: the trigger's event.
        """
        from airflow_provider_flipbook.triggers.events import validate_event

        validate_event(event, f"{self.task_id}: the earlier job on the publication")
        return self.execute(context)

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, upload: UploadResult | None = None
    ) -> UploadResult:
        """Resume after the trigger: the upload with the vendor's summary, or raise what the event says.

        :param context: the task context.
        :param event: the trigger's event; it carries the upload (``upload``).
        :param upload: the upload, when an Airflow version passes defer kwargs back.
        """
        from airflow_provider_flipbook.hooks import publishing_hook
        from airflow_provider_flipbook.triggers.events import validate_event

        status = cast("ConversionStatus", validate_event(event, f"{self.task_id}: conversion"))
        result = (event or {}).get("upload") or upload or {}
        return self._converted(context, result, status, publishing_hook(self.conn_id))

    def _declare(self, hook: PublishingHook, result: UploadResult) -> None:
        """Declare what this upload wrote, for lineage (the resumed process of a deferred wait too)."""
        new = result.get("created", not self.publication_id)
        self.declare(
            hook,
            record(
                vendor=hook.conn_type,
                host=cast("Any", hook).base_url,
                kind=hook.publication_kind,
                object_id=result["publication_id"],
                lifecycle="CREATE" if new else "OVERWRITE",
                ids={"publication_id": result["publication_id"], "version_id": result.get("version_id")},
                inputs=[self.pdf],
                public_url=result.get("url"),
                external_id=result.get("version_id") or result["publication_id"],
            ),
        )

    def _converted(
        self, context: Context, result: Any, status: ConversionStatus, hook: PublishingHook
    ) -> UploadResult:
        summary = status.get("publication") or {}
        final = cast(
            "UploadResult",
            {
                **result,
                "url": public_url(summary.get("url")) or result.get("url"),
                "total_pages": summary.get("total_pages"),
                "conversion": status.get("detail"),
            },
        )
        self.log.info(
            "Converted (%s): publication %s, %s pages, flipbook at %s",
            final["conversion"],
            final.get("publication_id"),
            final.get("total_pages") or final.get("pages"),
            final.get("url") or "(no public URL)",
        )
        ti = context.get("ti")
        if ti is not None and final.get("url"):
            ti.xcom_push(key="flipbook_url", value=final["url"])
        self._declare(hook, final)
        return final

    def _resume(self, hook: PublishingHook, store: Any) -> UploadResult | None:
        if store is None:
            return None
        previous = store.get(STATE_KEY)
        if not previous:
            return None
        if previous.get("conn_id") != self.conn_id:  # the task now points elsewhere: nothing to resume
            self.log.warning("Ignoring the previous try's upload on %s", previous.get("conn_id"))
            return None
        state = hook.conversion_status(previous["publication_id"], previous.get("version_id"))["state"]
        if state == "failed":
            self.log.warning(
                "The previous try's upload %s failed; uploading again", previous["publication_id"]
            )
            return None
        self.log.info("Resuming the previous try's upload %s (%s)", previous["publication_id"], state)
        return previous

    def _publish(self, hook: PublishingHook) -> UploadResult:
        from airflow_provider_flipbook.utils.files import check_pdf, resolve_pdf

        if self.pdf_password:
            mask_secret(self.pdf_password)
        hook.check_request(self._request(name=self.name or "document"))  # bad input fails before any call
        source = resolve_pdf(self.pdf)
        try:
            facts = check_pdf(source, hook.pdf_limits, hook.vendor, self.pdf_password)
            self.log.info(
                "%s: %s pages, %s bytes; publishing on %s", source.name, facts.pages, facts.size, hook.vendor
            )
            published = hook.publish_pdf(source, facts, self._request(name=self.name or source.name))
        finally:
            source.cleanup()
        url = published.get("url")
        if url and public_url(url) is None:  # a hook should never give one; never pass it on
            self.log.warning(
                "%s answered %r as the flipbook's URL: not an absolute URL, left out", hook.vendor, url
            )
        return {
            "vendor": hook.conn_type,
            "conn_id": self.conn_id,
            "name": self.name or source.name,
            "pages": facts.pages,
            **published,
            "url": public_url(url),
        }

    def _log_published(self, vendor: str, result: UploadResult, done: str) -> None:
        self.log.info(
            "%s %r on %s (connection %r): publication %s, version %s, flipbook at %s",
            done,
            result.get("name"),
            vendor,
            self.conn_id,
            result.get("publication_id"),
            result.get("version_id"),
            result.get("url") or "(no public URL)",
        )

    def _request(self, name: str) -> PublishRequest:
        return PublishRequest(
            name=name,
            publication_id=str(self.publication_id) if self.publication_id else None,
            description=self.description,
            folder=self.folder,
            domain=self.domain,
            parent_category_id=self._parent_category(),
            url_name=self.url_name,
            title=self.title,
            pdf_password=self.pdf_password,
            poll_interval=self.poll_interval,
            wait_timeout=self.conversion_timeout,
            wait_in_task=not self.deferrable,
        )

    def _parent_category(self) -> int | None:
        """``parent_category_id`` as an int; None (or blank, from a template) means the account's root."""
        value = self.parent_category_id
        if value is None or str(value).strip() in ("", "None"):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"parent_category_id must be an iPaper category id, got {value!r}"
            ) from None
