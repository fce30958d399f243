"""The one event contract between this provider's triggers and the tasks they resume.

Triggers build events with :func:`finished_event`, :func:`timeout_event` and :func:`error_event`;
the sensors' and the upload operator's ``execute_complete`` read them with :func:`validate_event`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from typing_extensions import NotRequired

from airflow_provider_flipbook._compat import AirflowException

EventStatus = Literal["success", "failed", "timeout", "error"]
EVENT_STATUSES: tuple[EventStatus, ...] = ("success", "failed", "timeout", "error")


class StatusEvent(TypedDict):
    """A trigger's one event; the trigger's target fields (ids, the upload) ride along."""

    status: EventStatus
    message: str
    result: NotRequired[dict[str, Any]]  # the hook's final status, on success and failure


def finished_event(status: Mapping[str, Any], target: Mapping[str, Any]) -> dict[str, Any]:
    """Build the event for a status that left ``running``: success or failure, the status as the result."""
    outcome: EventStatus = "success" if status["state"] == "success" else "failed"
    return {**target, "status": outcome, "message": str(status.get("detail", "")), "result": dict(status)}


def timeout_event(last_detail: Any, target: Mapping[str, Any]) -> dict[str, Any]:
    """Build the event for a deadline that passed while the status was still ``running``."""
    return {**target, "status": "timeout", "message": f"still {last_detail} at the deadline"}


def error_event(error: BaseException, target: Mapping[str, Any]) -> dict[str, Any]:
    """Build the event of a failed trigger: named, never a crashed trigger.

    The failure: an error the hook gave up on, or a bug.
    """
    return {**target, "status": "error", "message": f"{type(error).__name__}: {error}"}


def validate_event(
    event: Mapping[str, Any] | None, what: str, *, on_timeout: type[Exception] = AirflowException
) -> dict[str, Any]:
    """Return the result of a successful event; otherwise raise, naming ``what`` and the trigger's message.

    A timeout raises ``on_timeout`` (a sensor passes its timeout or skip exception); anything that
    does not follow the contract raises at once with what was seen.
    """
    if not isinstance(event, Mapping) or event.get("status") not in EVENT_STATUSES:
        raise AirflowException(f"{what}: the trigger sent no usable event ({event!r})")
    if event["status"] == "success":
        result = event.get("result")
        if not isinstance(result, Mapping) or result.get("state") != "success":
            raise AirflowException(f"{what}: a success event without a successful result ({event!r})")
        return dict(result)
    if event["status"] == "timeout":
        raise on_timeout(f"{what}: timed out: {event.get('message')}")
    raise AirflowException(f"{what}: {event['status']}: {event.get('message')}")
