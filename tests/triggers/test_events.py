"""The event contract between triggers and the tasks they resume (triggers/events.py)."""

import pytest

from airflow_provider_flipbook._compat import AirflowException, AirflowSensorTimeout
from airflow_provider_flipbook.triggers.events import (
    error_event,
    finished_event,
    timeout_event,
    validate_event,
)

TARGET = {"publication_id": "p1", "version_id": None}


def test_a_finished_success_gives_the_status_back():
    status = {"state": "success", "detail": "CompletedAllStages", "publication": {"total_pages": 4}}
    event = finished_event(status, TARGET)
    assert event["status"] == "success" and event["publication_id"] == "p1"
    assert validate_event(event, "t") == status


def test_a_failure_raises_with_the_vendor_detail():
    event = finished_event({"state": "failed", "detail": "source s1 ended in CompletedWithErrors"}, TARGET)
    with pytest.raises(AirflowException, match="t: failed: source s1 ended in CompletedWithErrors"):
        validate_event(event, "t")


def test_a_failure_without_a_vendor_detail_says_only_failed():
    """A status may carry no ``detail``: the message is then empty, never a made-up "None"."""
    event = finished_event({"state": "failed"}, TARGET)
    assert event["message"] == ""
    with pytest.raises(AirflowException, match=r"^t: failed: $"):
        validate_event(event, "t")


def test_a_timeout_raises_what_the_caller_chose():
    with pytest.raises(AirflowSensorTimeout, match="t: timed out: still Converting at the deadline"):
        validate_event(timeout_event("Converting", TARGET), "t", on_timeout=AirflowSensorTimeout)


def test_an_error_names_the_exception():
    with pytest.raises(AirflowException, match="t: error: ValueError: bad shape"):
        validate_event(error_event(ValueError("bad shape"), TARGET), "t")


@pytest.mark.parametrize(
    "event, message",
    [
        (None, r"t: the trigger sent no usable event \(None\)"),
        ({}, r"t: the trigger sent no usable event \(\{\}\)"),
        ({"message": "done"}, r"t: the trigger sent no usable event \(\{'message': 'done'\}\)"),
        ({"status": "done"}, r"t: the trigger sent no usable event \(\{'status': 'done'\}\)"),
        (
            {"status": "success"},
            r"t: a success event without a successful result \(\{'status': 'success'\}\)",
        ),
        (
            {"status": "success", "result": {"state": "running"}},
            r"t: a success event without a successful result \(.*'running'",
        ),
    ],
)
def test_anything_off_contract_fails_at_once_showing_it(event, message):
    """Each off-contract event is named as such, with what was seen (not any error starting "t: ")."""
    with pytest.raises(AirflowException, match=message):
        validate_event(event, "t")
