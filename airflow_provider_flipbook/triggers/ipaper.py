"""Trigger: wait until an earlier iPaper job on a paper has finished (iPaper runs one per paper)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typing_extensions import override

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.hooks.ipaper import IPaperHook
    from airflow_provider_flipbook.hooks.publishing import ConversionStatus
    from airflow_provider_flipbook.triggers.account_poll import Round


class IPaperPaperFreeTrigger(StatusPollingTrigger["IPaperHook"]):
    """Succeeds once the paper is no longer in ``Ripper.GetProcessingPapers``.

    Read from the account's shared poll of that list, like the conversion waits. Built with the base's
    keywords (``conn_id``, ``poll_interval``, ``deadline``, ``wait_first``) and ``paper_id``: the paper
    an earlier job runs on.
    """

    vendors = ("ipaper",)
    target_fields = ("paper_id",)

    @override
    def check(self, hook: IPaperHook) -> ConversionStatus:
        return hook.paper_free_status(self.target["paper_id"])

    @override
    def listing(self, hook: IPaperHook) -> Listing | None:
        return hook.status_listing

    @override
    def listed_status(self, hook: IPaperHook, answer: Round) -> ConversionStatus | None:
        return hook.listed_paper_free_status(answer.entry(self.target["paper_id"]), self.target["paper_id"])
