"""Trigger: wait for a Flipsnack HTML download package (``collection.downloadHTML``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import override

from airflow_provider_flipbook.triggers.base import StatusPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook


class FlipsnackDownloadPackageTrigger(StatusPollingTrigger["FlipsnackHook"]):
    """Waits until a collection's HTML download package is ready (``collection.downloadHTML``).

    Built with the base's keywords (``conn_id``, ``poll_interval``, ``deadline``, ``wait_first``) and
    ``collection_hash``: the collection.
    """

    vendors = ("flipsnack",)
    target_fields = ("collection_hash",)

    @override
    def check(self, hook: FlipsnackHook) -> dict[str, Any]:
        status = hook.package_status(self.target["collection_hash"])
        status.pop("resource_url", None)  # short-lived and signed: never in an event; the task asks again
        return status
