"""Trigger: wait for a PDF conversion on FlippingBook, iPaper or Flipsnack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger


class PdfConversionTrigger(StatusPollingTrigger):
    """Target kwargs: ``publication_id``, ``version_id`` (source id, job GUID, or None),
    ``summary`` (read the publication's summary at the end; off when the caller knows it) and
    ``upload`` (UploadPdfOperator's result, handed back in the event)."""

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
            **({"upload": upload} if upload is not None else {}),
        )

    def check(self, hook: Any) -> dict[str, Any]:
        return hook.conversion_status(
            self.target["publication_id"], self.target["version_id"], summary=self.target["summary"]
        )
