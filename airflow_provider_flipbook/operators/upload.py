"""UploadPdfOperator: publish a PDF on FlippingBook, iPaper or Flipsnack, chosen by the connection type."""

from __future__ import annotations

import re
import time
from typing import Any

from airflow_provider_flipbook._compat import (
    AirflowException,
    BaseOperator,
    conf,
    mask_secret,
    task_state_store,
)
from airflow_provider_flipbook.exceptions import InvalidInputError
from airflow_provider_flipbook.links import ViewFlipbookLink

STATE_KEY = "flipbook_upload"


class UploadPdfOperator(BaseOperator):
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

    :return: ``{"vendor", "conn_id", "publication_id", "version_id", "url", "name", "pages"}``
        (plus ``total_pages`` and ``conversion`` once converted)
    """

    template_fields = ("conn_id", "pdf", "name", "publication_id", "description", "folder", "domain",
                       "parent_category_id", "url_name", "title")
    operator_extra_links = (ViewFlipbookLink(),)
    ui_color = "#d7ecfb"

    def __init__(self, *, conn_id: str, pdf: Any, name: str | None = None, publication_id: str | None = None,
                 wait_for_conversion: bool = False,
                 deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
                 poll_interval: float = 10.0, conversion_timeout: float = 3600.0, description: str | None = None,
                 folder: str | None = None, domain: str | None = None, parent_category_id: int | None = None,
                 url_name: str | None = None, title: str | None = None, pdf_password: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id, self.pdf, self.name, self.publication_id = conn_id, pdf, name, publication_id
        self.wait_for_conversion, self.deferrable = wait_for_conversion, deferrable
        self.poll_interval, self.conversion_timeout = poll_interval, conversion_timeout
        self.description, self.folder, self.domain = description, folder, domain
        self.parent_category_id, self.url_name, self.title = parent_category_id, url_name, title
        self.pdf_password = pdf_password  # a secret: deliberately not templated

    # -- execute --------------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_flipbook.hooks import hook_for

        hook = hook_for(self.conn_id)
        store = task_state_store(context)  # None below Airflow 3.3: no resume
        hook.journal = store  # a retry after a lost answer looks before it creates again
        result = self._resume(hook, store)
        if result is None:
            result = self._publish(hook)
            if store is not None:
                store.set(STATE_KEY, result)
        ti = context.get("ti")
        if ti is not None:
            for key in ("publication_id", "version_id"):
                ti.xcom_push(key=key, value=result.get(key))
            if result.get("url"):
                ti.xcom_push(key="flipbook_url", value=result["url"])
        if not self.wait_for_conversion:
            return result
        if self.deferrable:
            from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

            self.defer(trigger=PdfConversionTrigger(conn_id=self.conn_id, publication_id=result["publication_id"],
                                                    version_id=result.get("version_id"),
                                                    poll_interval=self.poll_interval,
                                                    deadline=time.time() + self.conversion_timeout),
                       method_name="execute_complete", kwargs={"upload": result}, timeout=None)
        from airflow_provider_flipbook.sensors.base import poll_until_done

        status = poll_until_done(lambda: hook.conversion_status(result["publication_id"], result.get("version_id")),
                                 poll_interval=self.poll_interval, timeout=self.conversion_timeout, log=self.log,
                                 what=f"{hook.vendor} conversion of {result['publication_id']}")
        return self._converted(context, result, status)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None,
                         upload: dict[str, Any] | None = None) -> dict[str, Any]:
        if not event or event.get("status") != "success":
            raise AirflowException(f"{self.task_id}: conversion did not finish: "
                                   f"{(event or {}).get('status')}: {(event or {}).get('message')}")
        return self._converted(context, upload or {}, event["result"])

    def _converted(self, context: Any, result: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        summary = status.get("publication") or {}
        final = {**result, "url": summary.get("url") or result.get("url"),
                 "total_pages": summary.get("total_pages"), "conversion": status.get("detail")}
        ti = context.get("ti")
        if ti is not None and final.get("url"):
            ti.xcom_push(key="flipbook_url", value=final["url"])
        return final

    def _resume(self, hook: Any, store: Any) -> dict[str, Any] | None:
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
            self.log.warning("The previous try's upload %s failed; uploading again", previous["publication_id"])
            return None
        self.log.info("Resuming the previous try's upload %s (%s)", previous["publication_id"], state)
        return previous

    # -- publish, per vendor ------------------------------------------------------------------------

    def _publish(self, hook: Any) -> dict[str, Any]:
        from airflow_provider_flipbook.utils.files import check_pdf, resolve_pdf

        vendor = hook.conn_type
        if self.pdf_password:
            mask_secret(self.pdf_password)
        if vendor == "flipsnack" and self.publication_id:
            raise AirflowException("Flipsnack cannot add a version to an existing collection: leave publication_id "
                                   "empty to create a new collection")
        if vendor == "ipaper":
            self._parent_category()  # a bad category id fails before any remote call
        source = resolve_pdf(self.pdf)
        try:
            facts = check_pdf(source, vendor, self.pdf_password)
            self.log.info("%s: %s pages, %s bytes; publishing on %s", source.name, facts.pages, facts.size, vendor)
            publish = {"flippingbook": self._flippingbook, "ipaper": self._ipaper, "flipsnack": self._flipsnack}
            result = publish[vendor](hook, source, facts)
        finally:
            source.cleanup()
        return {"vendor": vendor, "conn_id": self.conn_id, "name": self.name or source.name,
                "pages": facts.pages, **result}

    def _flippingbook(self, hook: Any, source: Any, facts: Any) -> dict[str, Any]:
        from airflow_provider_flipbook.hooks.flippingbook import inline_request_fits

        fields: dict[str, Any] = {"filename": source.name}
        if inline_request_fits(facts.size):
            with source.open() as stream:
                data = stream.read()
        else:
            data = None
            url = source.http_url or source.signed_url()
            if not url:
                raise AirflowException(
                    f"{source.name} is {facts.size:,} bytes: too big for FlippingBook's 1 MB inline upload. Give the PDF "
                    "as an http(s) URL, or as an s3:// or gs:// path whose filesystem can sign a URL for FlippingBook "
                    "to fetch.")
            if url != source.http_url:
                mask_secret(url)
            fields["url"] = url
        if self.publication_id:
            source_id = hook.add_source(self.publication_id, data=data, **fields)
            publication = hook.get_publication(self.publication_id)
            return {"publication_id": self.publication_id, "version_id": source_id,
                    "url": publication.get("canonicalLink")}
        import base64

        created = hook.create_publication(name=self.name or source.name, description=self.description,
                                          folder=self.folder, domain=self.domain,
                                          data=base64.b64encode(data).decode() if data else None, **fields)
        return {"publication_id": created["id"], "version_id": (created.get("createdSource") or {}).get("id"),
                "url": created.get("url")}

    def _ipaper(self, hook: Any, source: Any, facts: Any) -> dict[str, Any]:
        paper_id = self.publication_id
        if not paper_id:  # the paper's URL is its natural key: reuse it, so a rerun never makes a second one
            url_name = self.url_name or re.sub(r"[^a-z0-9]+", "-", (self.name or source.name).lower()).strip("-")
            parent = self._parent_category() or hook.root_paper_id
            parent_url = hook.get_paper_url(parent)
            paper_id = hook.get_paper_id_from_url(f"{parent_url.rstrip('/')}/{url_name}/")
            if paper_id is None:
                paper_id = hook.create_paper(parent, self.name or source.name, url_name)
                self.log.info("Created iPaper paper %s", paper_id)
            else:
                self.log.info("iPaper paper %s already has that URL: adding a new version to it", paper_id)
        self._wait_for_free_paper(hook, int(paper_id))
        job = hook.process_pdf(int(paper_id), source.open, password=self.pdf_password)
        viewer = str(hook.extra("viewer_base_url", "")).rstrip("/")
        relative = hook.get_paper_url(int(paper_id))
        return {"publication_id": str(paper_id), "version_id": job, "url": viewer + relative if viewer else relative}

    def _parent_category(self) -> int | None:
        """``parent_category_id`` as an int; None (or blank, from a template) means the account's root."""
        value = self.parent_category_id
        if value is None or str(value).strip() in ("", "None"):
            return None
        try:
            parent = int(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"parent_category_id must be an iPaper category id, got {value!r}") from None
        if parent <= 0:  # iPaper documents no "paper 0 = root"
            raise InvalidInputError(f"parent_category_id={parent} is not an iPaper category id: leave it unset for "
                                    "the account's root (connection extra root_paper_id, or looked up)")
        return parent

    def _wait_for_free_paper(self, hook: Any, paper_id: int) -> None:
        """iPaper processes one PDF per paper at a time: let a job still running (say, last night's) finish."""
        from airflow_provider_flipbook.sensors.base import poll_until_done

        def free() -> dict[str, Any]:
            busy = [p for p in hook.get_processing_papers() if p.get("paper-id") == str(paper_id)]
            return {"state": "running" if busy else "success",
                    "detail": f"an earlier job is at {busy[0].get('progress')}%" if busy else "free"}

        poll_until_done(free, poll_interval=self.poll_interval, timeout=self.conversion_timeout, log=self.log,
                        what=f"iPaper paper {paper_id}")

    def _flipsnack(self, hook: Any, source: Any, facts: Any) -> dict[str, Any]:
        created = hook.create_collection(open_file=source.open, filename=source.name,
                                         title=self.title or self.name or source.name, description=self.description)
        items = created.get("items") or created.get("flipbooks") or [{}]  # the item list's key is undocumented
        return {"publication_id": created["collectionHash"], "version_id": items[0].get("flipbookHash"),
                "url": created.get("url")}
