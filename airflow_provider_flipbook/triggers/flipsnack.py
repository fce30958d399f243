"""Trigger: wait for a Flipsnack HTML download package (``collection.downloadHTML``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger


class FlipsnackDownloadPackageTrigger(StatusPollingTrigger):
    """Waits until a collection's HTML download package is ready (``collection.downloadHTML``)."""

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

    def check(self, hook: Any) -> dict[str, Any]:
        status = hook.package_status(self.target["collection_hash"])
        status.pop("resource_url", None)  # short-lived and signed: never in an event; the task asks again
        return status
