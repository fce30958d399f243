"""The iPaper hook against the sandbox in the documented shape and in each plausible variant where
iPaper's documents are silent (job GUID or not, root found at URL "/" or not, page ids kept or not,
a queued job listed late), plus the documented codes READONLY and LICENSE_DOES_NOT_ALLOW_PROCESSING."""

from __future__ import annotations

import json
import time

import pytest
from airflow.sdk import Connection
from airflow.sdk.exceptions import AirflowException

from airflow_provider_flipbook.exceptions import InvalidInputError, MalformedResponseError, VendorApiError
from airflow_provider_flipbook.hooks.ipaper import IPaperHook


def hook_with(sandbox, **extras) -> IPaperHook:
    conn = dict(sandbox.connections()["ipaper"])
    conn["extra"] = json.dumps({**conn["extra"], **extras})
    return IPaperHook(connection=Connection(conn_id="ipaper_variant", **conn))


def options(sandbox, **values) -> None:
    sandbox.state_store.vendors["ipaper"].options.update(values)  # the fixture's reset restores the defaults


def wait(hook: IPaperHook, paper: int, version: str | None, limit: float = 15.0) -> dict:
    deadline = time.monotonic() + limit
    while (status := hook.conversion_status(paper, version))[
        "state"
    ] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    return status


def ripper_calls(sandbox) -> list[str]:
    return [e.path.rsplit("/", 1)[-1] for e in sandbox.requests("ipaper") if "/Ripper.asmx/" in e.path]


# -- the account root ---------------------------------------------------------------------------------


def test_the_root_is_the_id_at_url_slash_and_never_paper_zero(sandbox):
    hook = IPaperHook()
    assert hook.root_paper_id == 182  # the documents' sample root, not 0
    with pytest.raises(VendorApiError, match="PAPER_DOES_NOT_EXIST"):
        hook.get_all_papers(0)
    category = hook.create_category(hook.root_paper_id, "Catalogues", "catalogues")
    assert {p["id"] for p in hook.iter_papers()} == set()
    hook.create_paper(category, "Spring", "spring")
    assert [p["url"] for p in hook.iter_papers()] == ["/catalogues/spring/"]


def test_without_a_root_lookup_the_extra_is_used_or_the_error_says_how_to_set_it(sandbox):
    options(sandbox, root_url_lookup=False)
    with pytest.raises(AirflowException, match="root_paper_id"):
        list(IPaperHook().iter_papers())
    ok, message = IPaperHook().test_connection()
    assert not ok and "root_paper_id" in message
    assert list(hook_with(sandbox, root_paper_id="182").iter_papers()) == []
    with pytest.raises(AirflowException, match="must be an integer"):
        list(hook_with(sandbox, root_paper_id="top").iter_papers())


# -- conversion: every variant ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        {},  # as documented: ProcessPDF answers no job GUID
        {"job_guid": True},  # the newer API's GetProcessingStatus
        {"page_ids": "kept"},  # a rerun keeps page ids: only the page count and image sizes can change
        {"appear_delay": 50.0},  # the job shows in GetProcessingPapers 1 s late (speed 50)
    ],
)
def test_a_conversion_is_followed_to_its_end_in_every_variant(sandbox, samples, variant, tmp_path):
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    # Long PDFs (about a second of vendor time at speed 50), so "still running" right after the
    # upload holds on a loaded machine too.
    make_sample_pdf(tmp_path / "second.pdf", 300, "Second version")
    options(sandbox, **variant)
    hook = hook_with(sandbox, processing_appear_timeout=30)
    paper = hook.create_paper(hook.root_paper_id, "Variant", "variant")
    version = hook.process_pdf(paper, lambda: open(samples["long"], "rb"))
    assert bool(version.startswith("queued@")) != bool(variant.get("job_guid"))
    assert (
        hook.conversion_status(paper, version)["state"] == "running"
    )  # not finished just because not listed
    status = wait(hook, paper, version)
    assert status["state"] == "success", status
    assert status["publication"]["total_pages"] == 400
    again = hook.process_pdf(paper, lambda: open(tmp_path / "second.pdf", "rb"))  # a new version of the paper
    assert hook.conversion_status(paper, again)["state"] == "running"
    status = wait(hook, paper, again)
    assert status["state"] == "success" and status["publication"]["total_pages"] == 300
    if not variant.get("job_guid"):
        assert "GetProcessingStatus" not in ripper_calls(sandbox)


@pytest.mark.parametrize("variant", [{}, {"job_guid": True}])
def test_a_failed_run_is_told_from_a_finished_one(sandbox, samples, variant):
    options(sandbox, **variant)
    hook = hook_with(sandbox, processing_appear_timeout=1.0)
    paper = hook.create_paper(hook.root_paper_id, "Broken", "broken")
    first = hook.process_pdf(paper, lambda: open(samples["small"], "rb"))
    assert wait(hook, paper, first)["state"] == "success"
    broken = hook.process_pdf(paper, lambda: open(samples["encrypted"], "rb"))  # no password: the run fails
    status = wait(hook, paper, broken)
    assert status["state"] == "failed", status
    assert "unchanged" in status["detail"] or "failed" in status["detail"]
    assert hook.paper_summary(paper)["total_pages"] == 4  # the earlier version is still there


def test_a_queued_job_not_listed_yet_is_running_until_the_appear_timeout(sandbox, samples):
    options(sandbox, appear_delay=10_000.0)  # never listed, never processed within the test
    hook = hook_with(sandbox, processing_appear_timeout=1.0)
    paper = hook.create_paper(hook.root_paper_id, "Late", "late")
    version = hook.process_pdf(paper, lambda: open(samples["small"], "rb"))
    assert hook.conversion_status(paper, version)["detail"].endswith("not in the processing list yet")
    time.sleep(1.1)
    status = hook.conversion_status(paper, version)
    assert status["state"] == "failed" and "processing_appear_timeout" in status["detail"]


def test_a_bare_paper_id_without_pages_is_not_finished(sandbox):
    hook = IPaperHook()
    paper = hook.create_paper(hook.root_paper_id, "Bare", "bare")
    assert hook.conversion_status(paper)["state"] == "running"


# -- documented codes ------------------------------------------------------------------------------------


def test_readonly_maintenance_is_retried_with_backoff(sandbox):
    options(sandbox, readonly=True)
    hook = hook_with(sandbox, retry_min_wait=0.01, retry_max_wait=0.05)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            options(sandbox, readonly=False)  # the upgrade is over

    hook._sleep = sleep
    paper = hook.create_paper(hook.root_paper_id, "During maintenance", "maintenance")
    assert hook.get_paper_url(paper) == "/maintenance/"
    assert len(waits) == 2 and all(w < 1 for w in waits)


def test_readonly_gives_up_after_the_retries_with_the_code(sandbox):
    options(sandbox, readonly=True)
    hook = hook_with(sandbox, retry_min_wait=0.01, retry_max_wait=0.02, max_retries=2)
    hook._sleep = lambda seconds: None
    with pytest.raises(VendorApiError, match="READONLY.*read-only maintenance") as caught:
        hook.create_paper(hook.root_paper_id, "x", "x")
    assert caught.value.retryable
    assert len([e for e in sandbox.requests("ipaper") if e.path.endswith("/CreatePaper")]) == 3


def test_a_license_that_allows_no_processing_is_a_final_clear_error(sandbox, samples):
    options(sandbox, license_allows_processing=False)
    hook = hook_with(sandbox, retry_min_wait=0.01)
    paper = hook.create_paper(hook.root_paper_id, "Unlicensed", "unlicensed")
    with pytest.raises(VendorApiError, match="LICENSE_DOES_NOT_ALLOW_PROCESSING.*upgraded") as caught:
        hook.process_pdf(paper, lambda: open(samples["small"], "rb"))
    assert not caught.value.retryable
    assert ripper_calls(sandbox).count("ProcessPDF") == 1


# -- custom-field search ---------------------------------------------------------------------------------


def test_usewildcards_is_sent_for_string_fields_only(sandbox):
    hook = IPaperHook()
    paper = hook.create_paper(hook.root_paper_id, "Fields", "fields")
    hook.add_custom_field("Season", "string")
    hook.add_custom_field("Year", "int")
    hook.set_custom_field_values(paper, {"Season": "Spring", "Year": 2026})
    # The sandbox refuses usewildcards (even "false") on an int field, as the documents require.
    assert [p["id"] for p in hook.search_by_custom_fields(None, {"Year": "2026"})] == [str(paper)]
    assert [p["id"] for p in hook.search_by_custom_fields(None, {"Season": "Spr%", "Year": 2026})] == [
        str(paper)
    ]
    before = len(sandbox.requests("ipaper"))
    with pytest.raises(InvalidInputError, match=r"string custom fields only: Year \(int\)"):
        hook.search_by_custom_fields(None, {"Year": "20%"})
    assert not [e for e in sandbox.requests("ipaper")[before:] if "Search.asmx" in e.path]


# -- answer shapes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route, call",
    [
        ("GetProcessingPapers", lambda hook: hook.get_processing_papers()),
        (
            "GetProcessingStatus",
            lambda hook: hook.conversion_status(1, "6f1f0f46-2a4d-4c4b-9d1e-3c1c2b0f9a11"),
        ),
        ("GetPaperStructure", lambda hook: hook.paper_summary(182)),
        ("CreatePaper", lambda hook: hook.create_paper(182, "x", "x")),
        ("GetPaperIDFromUrl", lambda hook: hook.get_paper_id_from_url("/x/")),
        ("GetAllPapers", lambda hook: list(hook.iter_papers())),
        ("SearchPapersByContent", lambda hook: hook.search_by_content("x")),
        ("GetCustomFieldDefinitions", lambda hook: hook.get_custom_field_definitions()),
        ("GetNumberOfVisitors", lambda hook: hook.get_visitors(182, "2026-01-01", "2026-01-02")),
        (
            "GetNumberOfPageviewsPerDay",
            lambda hook: hook.get_pageviews_per_day(182, "2026-01-01", "2026-01-02"),
        ),
    ],
)
def test_an_unknown_answer_shape_fails_at_once_naming_the_operation_and_what_it_saw(sandbox, route, call):
    hook = hook_with(sandbox, root_paper_id=182)
    sandbox.fault("ipaper", kind="malformed", body="shape", route=route)
    with pytest.raises(MalformedResponseError, match=r"\.\w+ failed.*unrecognised answer.*surprise\[kind\]"):
        call(hook)


def test_streamed_uploads_carry_a_content_length(sandbox, samples):
    hook = IPaperHook()  # the sandbox binds no form from a chunked body, as IIS does
    assert hook.upload_media_file(0, "big.pdf", lambda: open(samples["big"], "rb")) > 0
    paper = hook.create_paper(hook.root_paper_id, "Big", "big")
    assert hook.process_pdf(paper, lambda: open(samples["big"], "rb")).startswith("queued@")
    assert [
        e.status for e in sandbox.requests("ipaper") if e.path.endswith(("/UploadFile", "/ProcessPDF"))
    ] == [200, 200]


# -- the upload operator, sensor and trigger on one status call ---------------------------------------


@pytest.mark.parametrize("variant", [{}, {"job_guid": True}])
@pytest.mark.parametrize("deferrable", [False, True])
def test_the_upload_operator_publishes_under_the_root_and_waits_in_every_variant(
    sandbox, samples, context, variant, deferrable
):
    from airflow_provider_flipbook.operators import UploadPdfOperator
    from tests.conftest import run_deferred

    options(sandbox, **variant)
    operator = UploadPdfOperator(
        task_id="u",
        conn_id="ipaper_default",
        pdf=str(samples["small"]),
        name="Root Pdf",
        wait_for_conversion=True,
        deferrable=deferrable,
        poll_interval=0.05,
    )
    result = run_deferred(operator, context) if deferrable else operator.execute(context)
    assert {"vendor", "publication_id", "version_id", "url", "total_pages"} <= set(result)
    assert result["url"].endswith("/root-pdf/") and result["total_pages"] == 4
    assert result["version_id"].startswith("queued@") != bool(variant)
    assert IPaperHook().get_paper_id_from_url("/root-pdf/") == int(result["publication_id"])


@pytest.mark.parametrize("category", [0, "0", -3, "top"])
def test_the_upload_operator_refuses_a_category_that_is_no_id_before_any_call(
    sandbox, samples, context, category
):
    from airflow_provider_flipbook.operators import UploadPdfOperator

    with pytest.raises(InvalidInputError, match="parent_category_id"):
        UploadPdfOperator(
            task_id="u", conn_id="ipaper_default", pdf=str(samples["small"]), parent_category_id=category
        ).execute(context)
    assert sandbox.requests("ipaper") == []


def test_the_upload_operator_takes_a_category_and_a_blank_template_means_the_root(sandbox, samples, context):
    from airflow_provider_flipbook.operators import UploadPdfOperator

    hook = IPaperHook()
    category = hook.create_category(hook.root_paper_id, "Catalogues", "catalogues")
    inside = UploadPdfOperator(
        task_id="u",
        conn_id="ipaper_default",
        pdf=str(samples["small"]),
        name="Spring",
        parent_category_id=str(category),
    ).execute({"ti": context["ti"]})
    assert inside["url"].endswith("/catalogues/spring/")
    blank = UploadPdfOperator(
        task_id="u",
        conn_id="ipaper_default",
        pdf=str(samples["small"]),
        name="Spring",
        parent_category_id="None",
    ).execute({"ti": context["ti"]})  # "{{ params.x }}" of None
    assert blank["url"].endswith("/spring/") and not blank["url"].endswith("/catalogues/spring/")
