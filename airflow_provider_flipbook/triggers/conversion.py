"""Trigger: wait for a PDF conversion on FlippingBook, iPaper or Flipsnack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import override

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.hooks.publishing import ConversionStatus, PublishingHook
    from airflow_provider_flipbook.triggers.account_poll import Round


class PdfConversionTrigger(StatusPollingTrigger["PublishingHook"]):
    """Wait until a PDF upload's conversion ends.

    Target kwargs: ``publication_id``, ``version_id`` (source id, job GUID, or None),
    ``summary`` (read the publication's summary at the end; off when the caller knows it),
    ``new_publication`` (the upload created the publication: FlippingBook's publication list then
    tells when it is converted) and ``upload`` (UploadPdfOperator's result, handed back in the event).

    Waits on one account share one poll of the vendor's status list (see ``account_poll``).

    :param conn_id: the connection to poll with.
    :param poll_interval: seconds between two checks.
    :param deadline: when the wait times out (``time.time()`` seconds, kept across triggerers).
    :param wait_first: wait one interval before the first check (the task has just checked).
    :param publication_id: the publication (FlippingBook), paper (iPaper) or collection (Flipsnack).
    :param version_id: the source id, job GUID or upload marker; None: the publication as a whole.
    :param summary: read the publication's summary when it is done.
    :param new_publication: the upload created the publication (FlippingBook's list then tells).
    :param upload: UploadPdfOperator's result, handed back in the event.
    """

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
        self._unlisted_last_round = False

    @override
    def check(self, hook: PublishingHook) -> ConversionStatus:
        return hook.conversion_status(
            self.target["publication_id"], self.target["version_id"], summary=self.target["summary"]
        )

    @override
    def listing(self, hook: PublishingHook) -> Listing | None:
        return hook.status_listing

    @override
    def listed_key(self) -> Any:
        return self.target["publication_id"]

    @override
    def listed_status(self, hook: PublishingHook, answer: Round) -> ConversionStatus | None:
        publication_id = self.target["publication_id"]
        entry = answer.entry(publication_id)
        # Not listed in a steady round (nothing created or deleted): it moved between the round's pages
        # by a change of its own (FlippingBook's list order is not documented), so the next round
        # lists it, one interval after that change. Not listed twice running: ask alone.
        moved = entry is None and answer.steady and getattr(hook, "unlisted_in_steady_list_moved", False)
        if moved and not self._unlisted_last_round:
            self._unlisted_last_round = True
            return {"state": "running", "detail": "not in this round's list (moved between its pages)"}
        self._unlisted_last_round = entry is None
        return hook.listed_conversion_status(
            entry,
            publication_id,
            self.target["version_id"],
            new_publication=self.target.get("new_publication", False),
        )
