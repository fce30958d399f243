"""What both sensors share.

Poke, reschedule and deferrable modes with one meaning of ``timeout`` (seconds from the sensor's first
poke), a first poke before deferring, and failures that raise with the vendor's detail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flipbook._compat import (
    AirflowException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

S = TypeVar("S", bound=Mapping[str, Any])


class StatusSensor(BaseSensorOperator):
    """Wait for a vendor-side status; the base of both sensors.

    Subclasses implement ``status(context)`` (a hook call returning ``{"state", "detail", ...}``),
    ``trigger(deadline)`` and ``finish(context, status)`` (the XCom value).

    :param deferrable: wait in the triggerer instead of a worker slot (after one poke in the task).
    :param poke_interval: seconds between two status calls.
    :param timeout: seconds after which the wait fails (or skips, with ``soft_fail``).
    :param kwargs: the other BaseSensorOperator arguments.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse an incomplete sensor when its class is defined, not at its first poke or deferral."""
        super().__init_subclass__(**kwargs)
        missing = [
            name for name in ("status", "trigger") if getattr(cls, name) is getattr(StatusSensor, name)
        ]
        if missing:
            raise TypeError(f"{cls.__qualname__} must implement {' and '.join(missing)}()")

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 10.0,
        timeout: float = 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.deferrable = deferrable

    def status(self, context: Context) -> Mapping[str, Any]:
        """One status call: ``{"state": "running"|"success"|"failed", "detail": ...}``.

        :param context: the task context.
        """
        raise NotImplementedError

    def trigger(self, deadline: float) -> Any:
        """Return the trigger that waits in the triggerer.

        :param deadline: when the wait times out (``time.time()`` seconds).
        """
        raise NotImplementedError

    def finish(self, context: Context, status: Mapping[str, Any]) -> Any:
        """Return the sensor's XCom value once the status is a success.

        :param context: the task context.
        :param status: the successful status.
        """
        return status.get("publication") or status

    def waiting_for(self) -> str:
        """Describe what the sensor waits for, in words, for its log lines."""
        return self.task_id

    def poke(self, context: Context) -> PokeReturnValue | bool:
        """One status call: done with the finished value, not yet, or raise on a failure.

        :param context: the task context.
        """
        status = self.status(context)
        self.log.info("%s: %s (%s)", self.waiting_for(), status.get("detail"), status["state"])
        if status["state"] == "failed":
            raise AirflowException(f"{self.task_id}: {status.get('detail')}")
        if status["state"] == "success":
            return PokeReturnValue(is_done=True, xcom_value=self.finish(context, status))
        return False

    def execute(self, context: Context) -> Any:
        """Wait in the task (poke and reschedule modes), or poke once and defer to the trigger.

        :param context: the task context.
        """
        if not self.deferrable:
            return super().execute(context)
        started = time.time()
        result = self.poke(context)
        if isinstance(result, PokeReturnValue) and result.is_done:
            return result.xcom_value
        self.log.info(
            "Deferring: the triggerer waits for %s (a check every %g s, for up to %g s)",
            self.waiting_for(),
            float(self.poke_interval),
            float(self.timeout),
        )
        self.defer(
            trigger=self.trigger(deadline=started + float(self.timeout)),
            method_name="execute_complete",
            timeout=None,
        )  # the trigger keeps the deadline itself (see dbt #61467)
        return None

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger: the finished value, or raise what the event says.

        :param context: the task context.
        :param event: the trigger's event (see ``triggers/events.py``).
        """
        from airflow_provider_flipbook.triggers.events import validate_event

        timeout = AirflowSkipException if self.soft_fail else AirflowSensorTimeout
        return self.finish(
            context, validate_event(event, f"{self.task_id} (timeout {self.timeout} s)", on_timeout=timeout)
        )


def poll_until_done(
    check: Callable[[], S], *, poll_interval: float, timeout: float, log: Any, what: str
) -> S:
    """Blocking wait used by operators that wait in the task (``deferrable=False``)."""
    deadline = time.monotonic() + timeout
    while True:
        status = check()
        if status["state"] == "success":
            return status
        if status["state"] == "failed":
            raise AirflowException(f"{what}: {status.get('detail')}")
        if time.monotonic() >= deadline:
            raise AirflowException(f"{what}: still {status.get('detail')} after {timedelta(seconds=timeout)}")
        log.info("%s: %s", what, status.get("detail"))
        time.sleep(min(poll_interval, max(deadline - time.monotonic(), 0)))
