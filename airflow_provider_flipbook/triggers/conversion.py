"""Trigger: wait for a PDF conversion on FlippingBook, iPaper or Flipsnack."""

from __future__ import annotations

from typing import Any

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger


class PdfConversionTrigger(StatusPollingTrigger):
    """Target kwargs: ``publication_id`` and ``version_id`` (source id, job GUID, or None)."""

    def __init__(self, *, conn_id: str, publication_id: str, version_id: str | None = None,
                 poll_interval: float = 10.0, deadline: float) -> None:
        super().__init__(conn_id=conn_id, poll_interval=poll_interval, deadline=deadline,
                         publication_id=publication_id, version_id=version_id)

    def check(self, hook: Any) -> dict[str, Any]:
        return hook.conversion_status(self.target["publication_id"], self.target["version_id"])
