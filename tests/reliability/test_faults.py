"""Injected faults against every operator and sensor of every vendor."""

import asyncio
import time

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_flipbook.exceptions import VendorApiError
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.sensors import PdfConversionSensor
from airflow_provider_flipbook.sensors.flipsnack import FlipsnackDownloadPackageSensor
from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger
from airflow_provider_flipbook.vendors import publishing_types
from tests.conftest import needs_task_state_store

TRANSIENT = {
    "500": {"kind": "status", "status": 500, "count": 2},
    "502": {"kind": "status", "status": 502, "count": 2},
    "503": {"kind": "status", "status": 503, "count": 2},
    "429+retry-after": {"kind": "status", "status": 429, "retry_after": 1},
    "429": {"kind": "status", "status": 429, "count": 2},
    "timeout": {"kind": "slow", "delay": 2.5},
    "dropped": {"kind": "drop", "count": 2},
}
OBJECTS = {"flippingbook": "publications", "ipaper": "papers", "flipsnack": "collections"}


def wait_done(sandbox, vendor, result, conn_id):
    return PdfConversionSensor(
        task_id="w", conn_id=conn_id, upload=result, poke_interval=0.05, timeout=30
    ).execute({})


@pytest.mark.parametrize("fault", TRANSIENT, ids=list(TRANSIENT))
@pytest.mark.parametrize("vendor", ["flippingbook", "ipaper", "flipsnack"])
def test_upload_and_conversion_sensor_recover(sandbox, samples, context, fast, vendor, fault):
    sandbox.fault(vendor, **TRANSIENT[fault])  # hits the first call of the upload
    result = UploadPdfOperator(
        task_id="u", conn_id=fast[vendor], pdf=str(samples["small"]), name="Faulty", poll_interval=0.05
    ).execute(context)
    sandbox.fault(vendor, **TRANSIENT[fault])  # and the first status call of the sensor
    final = wait_done(sandbox, vendor, result, fast[vendor])
    assert final["total_pages"] == 4
    assert sandbox.state()[vendor][OBJECTS[vendor]] == 1


@pytest.mark.parametrize("fault", TRANSIENT, ids=list(TRANSIENT))
def test_tracked_link_recovers(sandbox, samples, context, fast, fault):
    result = UploadPdfOperator(
        task_id="u", conn_id=fast["flippingbook"], pdf=str(samples["small"]), name="Links"
    ).execute(context)
    sandbox.fault("flippingbook", route="tracked_links", **TRANSIENT[fault])
    link = CreateTrackedLinkOperator(
        task_id="l", publication=result, title="Ann", flippingbook_conn_id=fast["flippingbook"]
    ).execute(context)
    assert link["url"] and sandbox.state()["flippingbook"]["tracked_links"] == 1


@pytest.mark.parametrize("fault", TRANSIENT, ids=list(TRANSIENT))
def test_markdown_page_recovers(sandbox, context, fast, fault):
    sandbox.fault("papyrs", **TRANSIENT[fault])
    # A create meets a vendor 500 once at most here: the same 500 twice is final (test_exactly_once).
    sandbox.fault(
        "papyrs", route="markdown", **{**TRANSIENT[fault], **({"count": 1} if fault == "500" else {})}
    )
    page = PapyrsMarkdownPageOperator(
        task_id="p", title="T", markdown="# Hi\n\nThere", papyrs_conn_id=fast["papyrs"]
    ).execute(context)
    assert page["widgets"] == 2
    assert sandbox.state()["papyrs"]["pages"] == 1 and sandbox.state()["papyrs"]["widgets"] == 2


@pytest.mark.parametrize("fault", TRANSIENT, ids=list(TRANSIENT))
def test_download_package_sensor_recovers(sandbox, samples, context, fast, tmp_path, fault):
    result = UploadPdfOperator(
        task_id="u",
        conn_id=fast["flipsnack"],
        pdf=str(samples["three"]),
        wait_for_conversion=True,
        poll_interval=0.05,
    ).execute(context)
    sandbox.fault("flipsnack", route="downloadHTML", **TRANSIENT[fault])
    sandbox.fault("flipsnack", route="_packages", **TRANSIENT[fault]) if TRANSIENT[fault][
        "kind"
    ] == "status" else None
    done = FlipsnackDownloadPackageSensor(
        task_id="d",
        collection_hash=result["publication_id"],
        flipsnack_conn_id=fast["flipsnack"],
        destination=str(tmp_path) + "/",
        poke_interval=0.2,
        timeout=30,
    ).execute(context)
    assert done["size"] > 0 and sandbox.state()["flipsnack"]["packages"] == 1


@pytest.mark.parametrize(
    "vendor, conn_type, call, code",
    [
        (
            "flippingbook",
            "flippingbook",
            lambda c, s: UploadPdfOperator(task_id="u", conn_id=c, pdf=s, name="x"),
            "InternalError",
        ),
        (
            "ipaper",
            "ipaper",
            lambda c, s: UploadPdfOperator(task_id="u", conn_id=c, pdf=s, name="x"),
            "ERROR",
        ),
        (
            "flipsnack",
            "flipsnack",
            lambda c, s: UploadPdfOperator(task_id="u", conn_id=c, pdf=s, name="x"),
            22,
        ),
        (
            "papyrs",
            "papyrs",
            lambda c, s: PapyrsMarkdownPageOperator(task_id="p", title="t", markdown="x", papyrs_conn_id=c),
            500,
        ),
    ],
)
def test_persistent_faults_fail_in_bounded_time_naming_vendor_operation_and_code(
    sandbox, samples, context, fast, vendor, conn_type, call, code
):
    sandbox.fault(vendor, status=500, count=100)
    started = time.monotonic()
    with pytest.raises(VendorApiError) as error:
        call(fast[conn_type], str(samples["small"])).execute(context)
    assert time.monotonic() - started < 10
    assert error.value.vendor.lower() == vendor and error.value.operation and error.value.code == code
    assert str(code) in str(error.value) and error.value.status == 500


@needs_task_state_store
@pytest.mark.parametrize("vendor", ["flippingbook", "ipaper", "flipsnack"])
def test_task_dies_after_create_then_retries(sandbox, samples, context, fast, vendor):
    status_route = {
        "flippingbook": "GET /api/v1/fbonline/publication/",
        "ipaper": "GetProcessingStatus",
        "flipsnack": "getCollection",
    }[vendor]
    operator = UploadPdfOperator(
        task_id="u",
        conn_id=fast[vendor],
        pdf=str(samples["long"]),
        name="Dies",
        wait_for_conversion=True,
        poll_interval=0.05,
    )
    if (
        vendor == "ipaper"
    ):  # the variant with GetProcessingStatus: a status route ProcessPDF's set-up does not use
        sandbox.state_store.vendors["ipaper"].options["job_guid"] = True
    sandbox.fault(vendor, route=status_route, status=503, count=1000)
    with pytest.raises(VendorApiError):
        operator.execute(context)  # created, then every status call fails: the try dies
    sandbox.state_store.faults.clear()
    assert sandbox.state()[vendor][OBJECTS[vendor]] == 1
    first_try = len(sandbox.requests(vendor))
    result = operator.execute(context)  # the retry
    assert result["total_pages"] == 400
    assert sandbox.state()[vendor][OBJECTS[vendor]] == 1
    creating = (
        "POST /flippingbook/api/v1/fbonline/publication",
        "ProcessPDF",
        "CreatePaper",
        "flipsnack-upload",
    )
    retry_calls = [f"{r.method} {r.path}" for r in sandbox.requests(vendor)[first_try:]]
    assert not [call for call in retry_calls if call.startswith(creating) or any(c in call for c in creating)]


@pytest.mark.parametrize(
    "vendor, body",
    [(v, b) for v in publishing_types() for b in ("truncated", "html", "empty")] + [("ipaper", "nocode")],
)
def test_malformed_answers_give_one_clear_error_event_from_the_trigger(
    sandbox, samples, context, fast, vendor, body
):
    result = UploadPdfOperator(
        task_id="u", conn_id=fast[vendor], pdf=str(samples["small"]), name="M"
    ).execute(context)
    sandbox.fault(vendor, kind="malformed", body=body, count=100)
    trigger = PdfConversionTrigger(
        conn_id=fast[vendor],
        publication_id=result["publication_id"],
        version_id=result["version_id"],
        poll_interval=0.01,
        deadline=time.time() + 10,
    )

    async def events():
        return [e.payload async for e in trigger.run()]

    (event,) = asyncio.run(events())
    assert event["status"] == "error" and "MalformedResponseError" in event["message"]
    assert vendor.lower()[:4] in event["message"].lower()


def test_malformed_answer_fails_the_operator_clearly(sandbox, samples, context, fast):
    sandbox.fault("papyrs", kind="malformed", body="html", route="pages/create")
    with pytest.raises(AirflowException, match="Papyrs pages.create failed.*HTML page"):
        PapyrsMarkdownPageOperator(
            task_id="p", title="t", markdown="x", papyrs_conn_id=fast["papyrs"]
        ).execute(context)
