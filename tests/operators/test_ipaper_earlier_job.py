"""iPaper runs one job per paper: a deferrable upload waits for an earlier job in the triggerer (on the
account's poll of the processing list), never in a worker slot; a non-deferrable one waits in the task."""

from __future__ import annotations

import time

import pytest

from airflow_provider_flipbook._compat import TaskDeferred
from airflow_provider_flipbook.hooks import ipaper
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.triggers.ipaper import IPaperPaperFreeTrigger
from tests.conftest import run_deferred


def upload(pdf, task_id: str = "upload", **kwargs) -> UploadPdfOperator:
    return UploadPdfOperator(
        task_id=task_id,
        conn_id="ipaper_default",
        pdf=str(pdf),
        name="Busy paper",
        poll_interval=0.05,
        **kwargs,
    )


@pytest.fixture
def busy_paper(sandbox, samples, context) -> str:
    """A paper whose first job (400 pages) is still running."""
    first = upload(samples["long"], task_id="first").execute({"ti": context["ti"]})
    return first["publication_id"]


def processed(sandbox) -> list[float]:
    return [r.at for r in sandbox.requests("ipaper") if r.path.endswith("/ProcessPDF")]


def test_a_deferrable_upload_waits_for_an_earlier_job_in_the_triggerer(
    sandbox, samples, context, busy_paper, monkeypatch
):
    def no_sleep(seconds: float) -> None:
        raise AssertionError("the task slept in its worker slot")

    monkeypatch.setattr(ipaper.time, "sleep", no_sleep)
    operator = upload(samples["three"], publication_id=busy_paper, deferrable=True, wait_for_conversion=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, IPaperPaperFreeTrigger) and trigger.target == {"paper_id": busy_paper}
    assert deferred.value.method_name == "execute_when_free" and deferred.value.timeout is None
    assert len(processed(sandbox)) == 1  # nothing sent for the second upload yet

    methods: list[str] = []
    result = run_deferred(operator, context, methods)
    assert methods == ["execute_when_free", "execute_complete"]
    assert result["publication_id"] == busy_paper and result["total_pages"] == 3
    assert len(processed(sandbox)) == 2


def test_without_deferral_the_task_waits_itself(sandbox, samples, context, busy_paper):
    started = time.monotonic()
    result = upload(samples["three"], publication_id=busy_paper).execute(context)
    assert result["publication_id"] == busy_paper and len(processed(sandbox)) == 2
    assert time.monotonic() - started > 0.05  # it waited at least one poll for the first job
