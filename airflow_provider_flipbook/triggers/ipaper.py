"""Trigger: wait until an earlier iPaper job on a paper has finished (iPaper runs one per paper)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.triggers.account_poll import Round


class IPaperPaperFreeTrigger(StatusPollingTrigger):
    """Succeeds once the paper is no longer in ``Ripper.GetProcessingPapers``; read from the
    account's shared poll of that list, like the conversion waits."""

    vendors = ("ipaper",)

    def __init__(
        self,
        *,
        conn_id: str,
        paper_id: str,
        poll_interval: float = 10.0,
        deadline: float,
        wait_first: bool = True,
    ) -> None:
        super().__init__(
            conn_id=conn_id,
            poll_interval=poll_interval,
            deadline=deadline,
            wait_first=wait_first,
            paper_id=paper_id,
        )

    def check(self, hook: Any) -> dict[str, Any]:
        return hook.paper_free_status(self.target["paper_id"])

    def listing(self, hook: Any) -> Listing | None:
        return hook.status_listing

    def listed_status(self, hook: Any, answer: Round) -> dict[str, Any] | None:
        return hook.listed_paper_free_status(answer.entry(self.target["paper_id"]), self.target["paper_id"])
