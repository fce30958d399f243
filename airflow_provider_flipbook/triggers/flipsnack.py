"""Trigger: wait for a Flipsnack HTML download package (``collection.downloadHTML``)."""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger


class FlipsnackDownloadPackageTrigger(StatusPollingTrigger):
    """Waits until a collection's HTML download package is ready (``collection.downloadHTML``).

    :param conn_id: the connection to poll with.
    :param poll_interval: seconds between two checks.
    :param deadline: when the wait times out (``time.time()`` seconds, kept across triggerers).
    :param wait_first: wait one interval before the first check (the task has just checked).
    :param collection_hash: the collection.
    """

    vendors = ("flipsnack",)

    def __init__(
        self,
        *,
        conn_id: str,
        collection_hash: str,
        poll_interval: float = 5.0,
        deadline: float,
        wait_first: bool = True,
    ) -> None:
        super().__init__(
            conn_id=conn_id,
            poll_interval=poll_interval,
            deadline=deadline,
            wait_first=wait_first,
            collection_hash=collection_hash,
        )

    @override
    def check(self, hook: Any) -> dict[str, Any]:
        status = hook.package_status(self.target["collection_hash"])
        status.pop("resource_url", None)  # short-lived and signed: never in an event; the task asks again
        return status
