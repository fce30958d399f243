"""Trigger: wait for a PDF conversion on FlippingBook, iPaper or Flipsnack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.triggers.account_poll import Round


class PdfConversionTrigger(StatusPollingTrigger):
    """Target kwargs: ``publication_id``, ``version_id`` (source id, job GUID, or None),
    ``summary`` (read the publication's summary at the end; off when the caller knows it),
    ``new_publication`` (the upload created the publication: FlippingBook's publication list then
    tells when it is converted) and ``upload`` (UploadPdfOperator's result, handed back in the event).

    Waits on one account share one poll of the vendor's status list (see ``account_poll``)."""

    def __init__(
        self,
        *,
        conn_id: str,
        publication_id: str,
        version_id: str | None = None,
        poll_interval: float = 10.0,
        deadline: float,
        summary: bool = True,
        wait_first: bool = True,
        new_publication: bool = False,
        upload: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            conn_id=conn_id,
            poll_interval=poll_interval,
            deadline=deadline,
            wait_first=wait_first,
            publication_id=publication_id,
            version_id=version_id,
            summary=summary,
            **({"new_publication": True} if new_publication else {}),
            **({"upload": upload} if upload is not None else {}),
        )

    def check(self, hook: Any) -> dict[str, Any]:
        return hook.conversion_status(
            self.target["publication_id"], self.target["version_id"], summary=self.target["summary"]
        )

    def listing(self, hook: Any) -> Listing | None:
        return hook.status_listing

    def listed_status(self, hook: Any, answer: Round) -> dict[str, Any] | None:
        publication_id = self.target["publication_id"]
        return hook.listed_conversion_status(
            answer.entry(publication_id),
            publication_id,
            self.target["version_id"],
            new_publication=self.target.get("new_publication", False),
        )
