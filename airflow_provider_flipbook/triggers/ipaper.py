"""Trigger: wait until an earlier iPaper job on a paper has finished (iPaper runs one per paper)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import override

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.event_loop import Listing
    from airflow_provider_flipbook.triggers.account_poll import Round


class IPaperPaperFreeTrigger(StatusPollingTrigger):
    """Succeeds once the paper is no longer in ``Ripper.GetProcessingPapers``; read from the
    account's shared poll of that list, like the conversion waits.

    :param conn_id: the connection to poll with.
    :param paper_id: the paper an earlier job runs on.
    :param poll_interval: seconds between two checks.
    :param deadline: when the wait times out (``time.time()`` seconds, kept across triggerers).
    :param wait_first: wait one interval before the first check (the task has just checked).
    """

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

    @override
    def check(self, hook: Any) -> dict[str, Any]:
        return hook.paper_free_status(self.target["paper_id"])

    @override
    def listing(self, hook: Any) -> Listing | None:
        return hook.status_listing

    @override
    def listed_status(self, hook: Any, answer: Round) -> dict[str, Any] | None:
        return hook.listed_paper_free_status(answer.entry(self.target["paper_id"]), self.target["paper_id"])
