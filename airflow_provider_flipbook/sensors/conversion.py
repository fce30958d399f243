"""Wait until a PDF uploaded to FlippingBook, iPaper or Flipsnack is converted."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from airflow_provider_flipbook.sensors.base import StatusSensor
from airflow_provider_flipbook.utils.urls import public_url

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow.sdk import Context

    from airflow_provider_flipbook.hooks.publishing import ConversionStatus, PublishingHook


def upload_ids(upload: Any) -> tuple[str, str | None]:
    """(publication_id, version_id) from UploadPdfOperator's dict, its JSON, or a bare publication id."""
    if isinstance(upload, str) and upload.strip().startswith("{"):
        upload = json.loads(upload)
    if isinstance(upload, dict):
        if not upload.get("publication_id"):
            raise ValueError(f"upload has no publication_id: {upload!r}")
        return str(upload["publication_id"]), upload.get("version_id")
    if isinstance(upload, (str, int)) and str(upload).strip():
        return str(upload).strip(), None
    raise ValueError(f"upload must be UploadPdfOperator's result or a publication id, got {upload!r}")


class PdfConversionSensor(StatusSensor):
    """Succeeds when the conversion finished; fails with the vendor's detail when it failed.

    FlippingBook: the source's ``CompletedAllStages`` succeeds; ``CompletedWithErrors``,
    ``WaitManualQueue`` and a vanished publication fail. iPaper: the job's status when iPaper gave a
    job GUID, else the paper leaving the processing list *with its pages changed* since the upload
    (see ``IPaperHook.conversion_status``). Flipsnack: every item ``complete``; any ``failed`` fails.

    :param conn_id: a flippingbook, ipaper or flipsnack connection (templated)
    :param upload: the dict UploadPdfOperator returns (``publication_id``, ``version_id``), or an id (templated)
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``)
    :param mode: ``poke`` or ``reschedule`` when not deferrable
    :param timeout: seconds from the first poke, in every mode
    :param kwargs: the other StatusSensor and BaseSensorOperator arguments
    :return: the publication summary: ``publication_id``, ``name``, ``url``, ``total_pages``
    """

    template_fields = ("conn_id", "upload")

    def __init__(self, *, conn_id: str, upload: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.upload = upload

    def hook(self) -> PublishingHook:
        """Return the publishing hook of ``conn_id`` (FlippingBook, iPaper or Flipsnack)."""
        from airflow_provider_flipbook.hooks import publishing_hook

        return publishing_hook(self.conn_id)

    def _needs_summary(self) -> bool:
        """UploadPdfOperator's dict already has the URL and page count: no need to read them back."""
        return not (isinstance(self.upload, dict) and self.upload.get("url") and self.upload.get("pages"))

    @override
    def status(self, context: Context) -> ConversionStatus:
        publication_id, version_id = upload_ids(self.upload)
        return self.hook().conversion_status(publication_id, version_id, summary=self._needs_summary())

    @override
    def trigger(self, deadline: float) -> Any:
        from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger

        publication_id, version_id = upload_ids(self.upload)
        return PdfConversionTrigger(
            conn_id=self.conn_id,
            publication_id=publication_id,
            version_id=version_id,
            poll_interval=self.poke_interval,
            deadline=deadline,
            summary=self._needs_summary(),
            new_publication=isinstance(self.upload, dict) and bool(self.upload.get("created")),
        )

    @override
    def waiting_for(self) -> str:
        publication_id, version_id = upload_ids(self.upload)
        version = f" (version {version_id})" if version_id else ""
        return f"the conversion of publication {publication_id}{version} on {self.conn_id!r}"

    @override
    def finish(self, context: Context, status: Mapping[str, Any]) -> Any:
        summary = dict(status.get("publication") or {})
        if isinstance(self.upload, dict):
            summary = {
                **{k: v for k, v in self.upload.items() if v is not None},
                **{k: v for k, v in summary.items() if v is not None},
            }
        summary.setdefault("total_pages", summary.get("pages"))
        summary["conversion"] = status.get("detail")
        summary["url"] = public_url(summary.get("url"))
        self.log.info(
            "Converted (%s): publication %s, %s pages, flipbook at %s",
            summary["conversion"],
            summary.get("publication_id"),
            summary.get("total_pages"),
            summary["url"] or "(no public URL)",
        )
        return summary
