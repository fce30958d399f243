"""Bad inputs raise a clear Airflow exception before any remote object is created."""

import json

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.utils.pdf import make_sample_pdf


def upload(vendor, pdf, **kwargs):
    return UploadPdfOperator(task_id="u", conn_id=f"{vendor}_default", pdf=str(pdf), name="Bad", **kwargs)


@pytest.mark.parametrize("vendor", ["flippingbook", "ipaper", "flipsnack"])
@pytest.mark.parametrize(
    "sample, message",
    [
        ("missing", "does not exist"),
        ("empty", "is empty"),
        ("not_pdf", "is not a PDF"),
        ("truncated", "not a readable PDF|has no pages"),
        ("encrypted", "is encrypted"),
    ],
)
def test_bad_files(sandbox, samples, context, unchanged, vendor, sample, message):
    path = samples.get(sample, samples["small"].parent / "missing.pdf")
    with pytest.raises(AirflowException, match=message):
        upload(vendor, path).execute(context)
    assert sandbox.requests(vendor) == []


def test_too_many_pages_for_flipsnack(sandbox, context, unchanged, tmp_path):
    make_sample_pdf(tmp_path / "huge.pdf", 1001, "Over the limit")  # the vendor's real limit is 1000 pages
    with pytest.raises(AirflowException, match="1001 pages; Flipsnack takes at most 1000"):
        upload("flipsnack", tmp_path / "huge.pdf").execute(context)


def test_too_large(sandbox, samples, context, unchanged, monkeypatch):
    # The real limit is 192 MB; the table is lowered so the test does not write 192 MB.
    from airflow_provider_flipbook.hooks.ipaper import IPaperHook
    from airflow_provider_flipbook.utils.pdf import PdfLimits

    monkeypatch.setattr(IPaperHook, "pdf_limits", PdfLimits(1000, None, accepts_password=True))
    with pytest.raises(AirflowException, match="bytes; iPaper takes at most 1,000"):
        upload("ipaper", samples["small"]).execute(context)


def test_a_url_that_answers_404(sandbox, context, unchanged, pdf_server):
    url = pdf_server(b"%PDF-1.4", "present.pdf").replace("present.pdf", "absent.pdf")
    with pytest.raises(AirflowException, match="PDF URL answered HTTP 404"):
        upload("flippingbook", url).execute(context)


def test_a_wrong_pdf_password(sandbox, samples, context, unchanged):
    with pytest.raises(AirflowException, match="password does not open it"):
        upload("ipaper", samples["encrypted"], pdf_password="not-it").execute(context)
    with pytest.raises(AirflowException, match="does not take PDF passwords"):
        upload("flippingbook", samples["encrypted"], pdf_password="open-sesame").execute(context)


def test_an_unknown_publication_id(sandbox, samples, context, unchanged):
    with pytest.raises(AirflowException, match="ObjectNotFound"):
        upload("flippingbook", samples["small"], publication_id="f" * 32).execute(context)
    with pytest.raises(AirflowException, match="PAPER_DOES_NOT_EXIST"):
        upload("ipaper", samples["small"], publication_id="424242").execute(context)
    with pytest.raises(AirflowException, match="ObjectNotFound"):
        CreateTrackedLinkOperator(task_id="l", publication="e" * 32, title="x", reuse_existing=False).execute(
            context
        )


@pytest.mark.parametrize("markdown", ["", "\n  \n"])
def test_empty_markdown(sandbox, context, unchanged, markdown):
    with pytest.raises(AirflowException, match="markdown is empty"):
        PapyrsMarkdownPageOperator(task_id="p", title="T", markdown=markdown).execute(context)
    assert sandbox.requests("papyrs") == []


def test_a_missing_connection(sandbox, samples, context, unchanged):
    with pytest.raises(AirflowException, match="isn't defined|not defined|nope"):
        UploadPdfOperator(task_id="u", conn_id="nope", pdf=str(samples["small"]), name="x").execute(context)


@pytest.mark.parametrize(
    "vendor, drop, message",
    [
        ("flippingbook", "password", "has no password: set it to the FlippingBook API key"),
        ("flipsnack", "password", "has no password: set it to the Flipsnack API secret"),
        ("flipsnack", "login", "has no login: set it to the Flipsnack API key"),
        ("ipaper", "password", "has no password"),
        ("papyrs", "host", "has no host: set it to the Papyrs site URL"),
        ("papyrs", "password", "has no password: set it to the Papyrs API token"),
    ],
)
def test_a_connection_without_its_password_or_host(
    sandbox, samples, context, unchanged, monkeypatch, vendor, drop, message
):
    conn = {k: v for k, v in sandbox.connections()[vendor].items() if k != drop}
    monkeypatch.setenv(f"AIRFLOW_CONN_{vendor.upper()}_BROKEN", json.dumps(conn))
    if vendor == "papyrs":
        operator = PapyrsMarkdownPageOperator(
            task_id="p", title="T", markdown="# x", papyrs_conn_id="papyrs_broken"
        )
    else:
        operator = UploadPdfOperator(
            task_id="u", conn_id=f"{vendor}_broken", pdf=str(samples["small"]), name="x"
        )
    with pytest.raises(AirflowException, match=message):
        operator.execute(context)
    assert sandbox.requests(vendor) == []


def test_a_connection_of_the_wrong_type(sandbox, samples, context, unchanged):
    with pytest.raises(AirflowException, match="has type 'papyrs'; expected one of flippingbook"):
        UploadPdfOperator(task_id="u", conn_id="papyrs_default", pdf=str(samples["small"]), name="x").execute(
            context
        )
