"""The sensor base, through a tiny sensor over real HTTP against the sandbox: poke and deferrable
modes, one meaning of ``timeout``, and an incomplete subclass refused when it is defined."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_flipbook._compat import (
    AirflowException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.sensors.base import StatusSensor
from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger
from tests.conftest import run_deferred

if TYPE_CHECKING:
    from collections.abc import Mapping


class PublicationSensor(StatusSensor):
    """Waits for a FlippingBook publication's first conversion."""

    def __init__(self, *, publication_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.publication_id = publication_id

    def status(self, context: Any) -> Mapping[str, Any]:
        return FlippingBookHook().conversion_status(self.publication_id)

    def trigger(self, deadline: float) -> Any:
        return PdfConversionTrigger(
            conn_id="flippingbook_default",
            publication_id=self.publication_id,
            poll_interval=self.poke_interval,
            deadline=deadline,
        )


@pytest.fixture
def converting(sandbox, samples) -> str:
    data = base64.b64encode(samples["long"].read_bytes()).decode()  # 400 pages: converts for a while
    return FlippingBookHook().create_publication(name="Sensor base", data=data, filename="s.pdf")["id"]


def test_an_incomplete_sensor_is_refused_when_its_class_is_defined():
    with pytest.raises(TypeError, match="NoStatus must implement status"):

        class NoStatus(StatusSensor):
            def trigger(self, deadline: float) -> Any:
                return None

    with pytest.raises(TypeError, match="NoTrigger must implement trigger"):

        class NoTrigger(StatusSensor):
            def status(self, context: Any) -> Mapping[str, Any]:
                return {}


def test_poke_mode_waits_in_the_task_and_returns_the_summary(sandbox, converting, context):
    sensor = PublicationSensor(task_id="s", publication_id=converting, poke_interval=0.05, timeout=60)
    summary = sensor.execute(context)
    assert summary["publication_id"] == converting and summary["total_pages"] == 400


def test_a_failure_raises_with_the_vendors_detail(sandbox, context):
    sensor = PublicationSensor(task_id="s", publication_id="f" * 32, poke_interval=0.05, timeout=60)
    with pytest.raises(AirflowException, match="vanished"):
        sensor.execute(context)


def test_deferrable_pokes_first_then_defers_with_the_deadline_in_the_trigger(sandbox, converting, context):
    sensor = PublicationSensor(
        task_id="s", publication_id=converting, poke_interval=0.05, timeout=120, deferrable=True
    )
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context)
    assert deferred.value.timeout is None  # the trigger keeps the deadline: one meaning of timeout
    assert before + 120 <= deferred.value.trigger.deadline <= time.time() + 120
    assert [r for r in sandbox.requests("flippingbook") if r.path.endswith(converting)]  # poked first
    assert run_deferred(sensor, context)["total_pages"] == 400


def test_deferrable_does_not_defer_what_is_done_already(sandbox, samples, context):
    data = base64.b64encode(samples["three"].read_bytes()).decode()
    done = FlippingBookHook().create_publication(name="Done", data=data, filename="d.pdf")["id"]
    time.sleep(0.3)  # converted (sandbox speed 50)
    sensor = PublicationSensor(task_id="s", publication_id=done, deferrable=True, poke_interval=0.05)
    assert sensor.execute(context)["publication_id"] == done  # no TaskDeferred


@pytest.mark.parametrize("soft_fail, raised", [(False, AirflowSensorTimeout), (True, AirflowSkipException)])
def test_a_timeout_event_raises_the_sensors_timeout_or_skip(soft_fail, raised, context):
    sensor = PublicationSensor(task_id="s", publication_id="p", soft_fail=soft_fail, timeout=5)
    with pytest.raises(raised, match="timed out: still Converting"):
        sensor.execute_complete(context, {"status": "timeout", "message": "still Converting at the deadline"})
