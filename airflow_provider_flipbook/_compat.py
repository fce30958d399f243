"""Everything that differs between the Airflow versions this provider supports (3.1 to 3.x).

Every other module imports these names from here, so version checks live in one place (the idea of
the community providers' ``version_compat.py``). Features are detected where a name can be probed,
and the version is compared only for behaviour that cannot be seen from outside.

What differs, checked in the wheels of 3.1.2, 3.2.2, 3.3.1 and 3.3.2:

* 3.1: ``conf``, the sensor exceptions, ``AssetOrTimeSchedule`` and ``CronTriggerTimetable`` are not
  in ``airflow.sdk`` yet; the UI reads connection forms from the hooks' methods only.
* 3.1: deadline alerts are experimental and only in ``airflow.sdk.definitions.deadline``.
* before 3.3: no task state store (AIP-103) and no task retry policies (AIP-105).
* before 3.3.2: ``BaseHook.aget_connection`` masks secrets with a synchronous call to the supervisor
  (it can deadlock the triggerer's event loop) and ``Connection.aextra_dejson`` does not exist.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import deque
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION
from airflow.sdk import (
    BaseHook,
    BaseNotifier,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    Connection,
    PokeReturnValue,
)
from airflow.sdk.exceptions import AirflowException
from airflow.sdk.log import mask_secret
from packaging.version import Version

if TYPE_CHECKING:
    from airflow.sdk import conf
else:
    try:  # 3.2+
        from airflow.sdk import conf
    except ImportError:  # 3.1
        from airflow.configuration import conf

try:  # 3.2+
    from airflow.sdk.exceptions import (
        AirflowRescheduleException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
except ImportError:  # 3.1: still in core (the same classes the 3.1 task runner catches)
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowRescheduleException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )

try:  # 3.2+
    from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable
except ImportError:  # 3.1
    from airflow.timetables.assets import AssetOrTimeSchedule  # type: ignore[assignment]
    from airflow.timetables.trigger import CronTriggerTimetable  # type: ignore[assignment]

if TYPE_CHECKING:  # airflow.sdk exports them lazily, which mypy does not see
    AsyncCallback: Any
    DeadlineAlert: Any
    DeadlineReference: Any
else:
    try:  # 3.2+
        from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference
    except ImportError:
        try:  # 3.1: experimental, not exported from airflow.sdk yet
            from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference
        except ImportError:  # before deadline alerts
            AsyncCallback = DeadlineAlert = DeadlineReference = None

_base = Version(Version(AIRFLOW_VERSION).base_version)
AIRFLOW_V_3_2_PLUS: bool = _base >= Version("3.2")
AIRFLOW_V_3_3_PLUS: bool = _base >= Version("3.3")

#: Task retry policies (AIP-105): ``VendorRetryPolicy`` exists only where this is true.
HAS_RETRY_POLICY: bool = importlib.util.find_spec("airflow.sdk.definitions.retry_policy") is not None
#: Deadline alerts (``DAG(deadline=DeadlineAlert(...))``, 3.1+; run by the triggerer as AsyncCallback).
HAS_DEADLINE_ALERTS: bool = DeadlineAlert is not None
#: The task state store (AIP-103, ``context["task_state_store"]``): resume on retry.
HAS_TASK_STATE_STORE: bool = AIRFLOW_V_3_3_PLUS
#: ``Connection.aextra_dejson`` and an ``aget_connection`` that masks secrets asynchronously.
HAS_ASYNC_MASKING: bool = hasattr(Connection, "aextra_dejson")
#: The UI draws connection forms from ``conn-fields`` in the provider info (3.2+); 3.1 asks the hooks.
READS_CONN_FIELDS: bool = AIRFLOW_V_3_2_PLUS


def deadline_alert(*, reference: str, interval: Any, callback: Any, kwargs: dict[str, Any]) -> Any:
    """Build a ``DeadlineAlert`` whose callback runs ``callback(**kwargs)`` in the triggerer.

    None where Airflow has no deadline alerts (``DAG(deadline=None)`` is then a no-op).

    :param reference: a ``DeadlineReference`` attribute name, e.g. ``DAGRUN_LOGICAL_DATE``
    :param interval: the ``timedelta`` after the reference
    :param callback: an awaitable callable importable in the triggerer (a notifier class)
    :param kwargs: its keyword arguments (JSON; Airflow adds ``context``)
    """
    if not HAS_DEADLINE_ALERTS:
        return None
    return DeadlineAlert(
        reference=getattr(DeadlineReference, reference),
        interval=interval,
        callback=AsyncCallback(callback, kwargs=kwargs),
    )


def task_state_store(context: Any) -> Any:
    """Return the task state store where Airflow has one (3.3+), else ``None``: no resume on retry there."""
    return context.get("task_state_store") if HAS_TASK_STATE_STORE else None


def hook_lineage_collector() -> Any:
    """Return Airflow's hook-level lineage collector (AIP-62).

    A no-op unless a lineage reader (the OpenLineage provider) is installed. ``airflow.sdk.lineage``
    from 3.2, core's module on 3.1.
    """
    try:
        from airflow.sdk.lineage import get_hook_lineage_collector
    except ImportError:  # 3.1
        from airflow.lineage.hook import get_hook_lineage_collector  # type: ignore[no-redef]
    return get_hook_lineage_collector()


def asset_state_accessors(store: Any) -> list[Any]:
    """Return the per-asset accessors of a watcher trigger's ``asset_state_store`` (3.3+; before: []).

    Identical watcher triggers share one trigger row, so one trigger may serve several assets, and
    3.3.2's accessors offer no iteration (apache/airflow#71460 was closed unmerged) while their
    un-subscripted ``get`` raises for more than one asset: read the accessors it holds by name and URI.
    """
    if store is None:
        return []
    found = [*getattr(store, "_by_name", {}).values(), *getattr(store, "_by_uri", {}).values()]
    return found or [store]


class TriggererOutbox:
    """The triggerer's queue of events not yet sent to its supervisor, seen from a running trigger.

    Airflow tells a trigger nothing about its event after ``yield`` (3.3's persist confirmation serves
    shared streams only). What 3.1 to 3.3 share: ``TriggerRunner.run_trigger`` appends each event to
    the runner's ``events`` deque (``(trigger_id, event)`` pairs) before it resumes the trigger; the
    runner's loop pops that deque into one message to its supervisor, which writes the events to the
    database in the same turn of its own loop (``handle_events`` after reading its socket; a
    supervisor told to stop finishes that turn first); a runner that stops (``stop``) never sends what
    is still queued. A trigger finds its runner on its own call stack (``run_trigger``'s ``self``).

    :param runner: the ``TriggerRunner`` driving the calling trigger.
    """

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    @classmethod
    def of_caller(cls) -> TriggererOutbox | None:
        """Return the outbox of the triggerer running the caller, or None outside a triggerer (tests)."""
        frame = sys._getframe(1)
        while frame is not None:
            runner = frame.f_locals.get("self") if frame.f_code.co_name == "run_trigger" else None
            if isinstance(getattr(runner, "events", None), deque) and hasattr(runner, "stop"):
                return cls(runner)
            frame = frame.f_back  # type: ignore[assignment]
        return None

    def holds(self, event: Any) -> bool:
        """Whether ``event`` still waits in the queue (not sent to the supervisor yet).

        :param event: the ``TriggerEvent`` the trigger yielded.
        """
        return any(entry[1] is event for entry in list(self.runner.events))

    @property
    def stopping(self) -> bool:
        """Whether the triggerer is shutting down: what is still queued will not be sent."""
        return bool(self.runner.stop)


async def aget_connection(conn_id: str) -> tuple[Connection, dict[str, Any]]:
    """Fetch the connection and its extras (secrets masked) without blocking the event loop.

    3.3.2+: ``aget_connection`` and ``aextra_dejson``. Before: both in a worker thread, where the
    synchronous masking call to the supervisor is safe; ``sync_to_async`` (not ``asyncio.to_thread``)
    so the thread can reach the triggerer's comms through the running loop, as common-compat does.
    """
    if HAS_ASYNC_MASKING:
        connection = await BaseHook.aget_connection(conn_id)
        return connection, dict(await connection.aextra_dejson() or {})  # type: ignore[attr-defined]
    from asgiref.sync import sync_to_async

    def fetch() -> tuple[Connection, dict[str, Any]]:
        connection = BaseHook.get_connection(conn_id)
        return connection, dict(connection.extra_dejson or {})

    return await sync_to_async(fetch)()


__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "HAS_ASYNC_MASKING",
    "HAS_DEADLINE_ALERTS",
    "HAS_RETRY_POLICY",
    "HAS_TASK_STATE_STORE",
    "READS_CONN_FIELDS",
    "AirflowException",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AssetOrTimeSchedule",
    "BaseHook",
    "BaseNotifier",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "Connection",
    "CronTriggerTimetable",
    "PokeReturnValue",
    "TaskDeferred",
    "aget_connection",
    "TriggererOutbox",
    "asset_state_accessors",
    "conf",
    "deadline_alert",
    "hook_lineage_collector",
    "mask_secret",
    "task_state_store",
]
