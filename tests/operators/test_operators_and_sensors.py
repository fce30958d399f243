"""Operators, sensors and triggers against the sandbox over loopback: every vendor, every mode."""

import json
import time

import pytest

from airflow_provider_flipbook._compat import AirflowException, AirflowSensorTimeout, TaskDeferred
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.sensors import PdfConversionSensor
from airflow_provider_flipbook.sensors.flipsnack import FlipsnackDownloadPackageSensor
from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger
from tests.conftest import needs_task_state_store, run_deferred, run_rescheduled

VENDORS = ("flippingbook", "ipaper", "flipsnack")
OBJECTS = {"flippingbook": "publications", "ipaper": "papers", "flipsnack": "collections"}


def upload(vendor, pdf, **kwargs):
    kwargs.setdefault("name", f"Report {vendor}")
    return UploadPdfOperator(
        task_id=f"upload_{vendor}", conn_id=f"{vendor}_default", pdf=str(pdf), poll_interval=0.05, **kwargs
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_upload_without_waiting_returns_ids_and_pushes_them_first(sandbox, samples, context, vendor):
    result = upload(vendor, samples["small"]).execute(context)
    assert result["vendor"] == vendor and result["publication_id"] and result["pages"] == 4
    assert result["url"].startswith(sandbox.url)
    assert context["ti"].xcom["publication_id"] == result["publication_id"]
    assert context["ti"].xcom["flipbook_url"] == result["url"]
    assert sandbox.state()[vendor][OBJECTS[vendor]] == 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_upload_waits_in_the_task(sandbox, samples, context, vendor):
    result = upload(vendor, samples["small"], wait_for_conversion=True, deferrable=False).execute(context)
    assert result["total_pages"] == 4 and result["conversion"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_upload_defers_and_completes(sandbox, samples, context, vendor):
    operator = upload(vendor, samples["three"], wait_for_conversion=True, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(dict(context, task_state_store=None))
    assert deferred.value.timeout is None and deferred.value.method_name == "execute_complete"
    result = run_deferred(
        upload(vendor, samples["three"], wait_for_conversion=True, deferrable=True), context
    )
    assert result["total_pages"] == 3


def test_upload_adds_versions_to_existing_publications(sandbox, samples, context):
    first = upload("flippingbook", samples["small"]).execute(context)
    second = upload("flippingbook", samples["three"], publication_id=first["publication_id"]).execute(
        {"ti": context["ti"]}
    )
    assert second["publication_id"] == first["publication_id"] and second["version_id"] != first["version_id"]
    assert sandbox.state()["flippingbook"] == {
        **sandbox.state()["flippingbook"],
        "publications": 1,
        "sources": 2,
    }
    paper = upload("ipaper", samples["small"], wait_for_conversion=True).execute({"ti": context["ti"]})
    again = upload(
        "ipaper", samples["three"], publication_id=paper["publication_id"], wait_for_conversion=True
    ).execute({"ti": context["ti"]})
    assert again["publication_id"] == paper["publication_id"] and again["total_pages"] == 3
    assert sandbox.state()["ipaper"]["papers"] == 1


def test_flipsnack_refuses_a_new_version_before_any_call(sandbox, samples, context):
    with pytest.raises(AirflowException, match="cannot add a version"):
        upload("flipsnack", samples["small"], publication_id="abc").execute(context)
    assert sandbox.requests("flipsnack") == []


def test_flippingbook_large_pdf_goes_by_url(sandbox, samples, context, pdf_server):
    with pytest.raises(AirflowException, match="too big for FlippingBook's 1 MB inline upload.*http"):
        upload("flippingbook", samples["big"]).execute(context)
    assert sandbox.state()["flippingbook"]["publications"] == 0
    url = pdf_server(samples["big"].read_bytes(), "big.pdf")
    result = upload("flippingbook", url, wait_for_conversion=True).execute({"ti": context["ti"]})
    assert result["total_pages"] == 3


@needs_task_state_store
def test_a_retry_resumes_instead_of_uploading_again(sandbox, samples, context):
    first_try = upload("flippingbook", samples["small"], wait_for_conversion=True, conversion_timeout=0.0)
    with pytest.raises(AirflowException, match="after"):
        first_try.execute(context)  # the task "dies" while waiting
    assert sandbox.state()["flippingbook"]["publications"] == 1
    second_try = upload("flippingbook", samples["small"], wait_for_conversion=True)
    result = second_try.execute(context)
    assert result["total_pages"] == 4
    assert (
        sandbox.state()["flippingbook"]["publications"] == 1
        and sandbox.state()["flippingbook"]["sources"] == 1
    )


@needs_task_state_store
def test_a_retry_after_a_failed_conversion_uploads_afresh(sandbox, samples, context, monkeypatch):
    """The first try's upload (saved with its conn_id, so it is a candidate to resume) failed at the
    vendor: the retry publishes again instead of resuming it."""
    import airflow_provider_flipbook.utils.files as files

    check_pdf = files.check_pdf
    monkeypatch.setattr(files, "check_pdf", lambda *a, **k: type("F", (), {"pages": 2, "size": 1})())
    failed = upload("flippingbook", samples["encrypted"]).execute(context)  # the vendor fails it
    saved = context["task_state_store"].get("flipbook_upload")
    assert saved["conn_id"] == "flippingbook_default" and saved["publication_id"] == failed["publication_id"]
    deadline, hook = time.monotonic() + 15, FlippingBookHook()
    while (
        state := hook.conversion_status(failed["publication_id"], failed["version_id"])["state"]
    ) == "running":
        assert time.monotonic() < deadline, "the sandbox never failed the conversion"
        time.sleep(0.05)
    assert state == "failed"
    monkeypatch.setattr(files, "check_pdf", check_pdf)

    result = upload("flippingbook", samples["small"], wait_for_conversion=True).execute(context)

    assert result["publication_id"] != failed["publication_id"] and result["total_pages"] == 4


@pytest.mark.parametrize("vendor", VENDORS)
def test_total_pages_is_the_vendors_count_not_ours(sandbox, samples, context, vendor):
    """A vendor that counts pages its own way (a cover, an end page): the result reports its count."""
    sandbox.state_store.set_options(vendor, {"extra_pages": 2})
    result = upload(vendor, samples["small"], wait_for_conversion=True).execute(context)
    assert result["total_pages"] == 4 + 2


# -- PdfConversionSensor ---------------------------------------------------------------------------------


def sensor(vendor, result, **kwargs):
    kwargs.setdefault("timeout", 30)
    return PdfConversionSensor(
        task_id=f"wait_{vendor}", conn_id=f"{vendor}_default", upload=result, poke_interval=0.05, **kwargs
    )


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_conversion_sensor_in_every_mode(sandbox, samples, context, vendor, mode):
    result = upload(vendor, samples["three"]).execute(context)
    if mode == "deferrable":
        final = run_deferred(sensor(vendor, result, deferrable=True), context)
    elif mode == "reschedule":
        final = run_rescheduled(sensor(vendor, result, mode="reschedule"), context)
    else:
        final = sensor(vendor, result).execute(context)
    assert final["publication_id"] == result["publication_id"] and final["total_pages"] == 3
    assert final["url"]


def test_sensor_pokes_once_before_deferring(sandbox, samples, context):
    result = upload("flippingbook", samples["small"], wait_for_conversion=True).execute(context)
    final = sensor("flippingbook", result, deferrable=True).execute(context)  # already done: no TaskDeferred
    assert final["total_pages"] == 4


@pytest.mark.parametrize("deferrable", [False, True])
def test_failed_conversion_fails_with_the_vendors_detail(sandbox, samples, context, deferrable, monkeypatch):
    import airflow_provider_flipbook.utils.files as files

    monkeypatch.setattr(files, "check_pdf", lambda *a, **k: type("F", (), {"pages": 2, "size": 1})())
    result = upload("flippingbook", samples["encrypted"]).execute(context)
    waiting = sensor("flippingbook", result, deferrable=deferrable)
    with pytest.raises(AirflowException, match="vanished|CompletedWithErrors"):
        run_deferred(waiting, context) if deferrable else waiting.execute(context)


@pytest.mark.parametrize("deferrable", [False, True])
def test_sensor_timeout_means_the_same_in_every_mode(sandbox, samples, context, deferrable):
    result = upload("ipaper", samples["long"]).execute(context)  # 400 pages: over a second at this speed
    waiting = sensor("ipaper", result, deferrable=deferrable, timeout=0.2)
    with pytest.raises(AirflowSensorTimeout):
        run_deferred(waiting, context) if deferrable else waiting.execute(context)


def test_trigger_serialization_round_trip():
    trigger = PdfConversionTrigger(
        conn_id="flippingbook_default", publication_id="p", version_id="v", poll_interval=2.5, deadline=123.0
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_flipbook.triggers.conversion.PdfConversionTrigger"
    assert kwargs == {
        "conn_id": "flippingbook_default",
        "poll_interval": 2.5,
        "deadline": 123.0,
        "wait_first": True,
        "publication_id": "p",
        "version_id": "v",
        "summary": True,
    }
    assert PdfConversionTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_trigger_reports_a_vanished_publication_as_one_failed_event(sandbox):
    import asyncio

    trigger = PdfConversionTrigger(
        conn_id="flippingbook_default",
        publication_id="0" * 32,
        poll_interval=0.01,
        deadline=time.time() + 5,
        wait_first=False,
    )

    async def events():
        return [e.payload async for e in trigger.run()]

    (event,) = asyncio.run(events())
    assert event["status"] == "failed" and "vanished" in event["message"]


# -- CreateTrackedLinkOperator ------------------------------------------------------------------------------


def test_tracked_links_for_each_recipient_and_reuse(sandbox, samples, context):
    result = upload("flippingbook", samples["small"]).execute(context)
    links = [
        CreateTrackedLinkOperator(
            task_id=f"link_{n}",
            publication=result,
            title=who,
            notification_type="Email",
            notify_on_first_view=True,
        ).execute(context)
        for n, who in enumerate(["Ann", "Bob", "Cy"])
    ]
    assert len({link["url"] for link in links}) == 3 and all(
        link["url"].startswith(sandbox.url) for link in links
    )
    again = CreateTrackedLinkOperator(task_id="retry", publication=result["url"], title="Bob").execute(
        context
    )
    assert again["reused"] and again["link_id"] == links[1]["link_id"]
    forced = CreateTrackedLinkOperator(
        task_id="new", publication=result["publication_id"], title="Bob", reuse_existing=False
    ).execute(context)
    assert forced["link_id"] != links[1]["link_id"]
    assert sandbox.state()["flippingbook"]["tracked_links"] == 4


def test_a_tracked_link_costs_one_lookup_and_one_create(sandbox, samples, context):
    """The reuse lookup also tells the create what existed, so it does not list again: at FlippingBook's
    1 request/s every request is a second of a batch. (A lost answer is still reconciled:
    tests/reliability/test_exactly_once.py.)"""
    result = upload("flippingbook", samples["small"]).execute(context)
    for reuse in (True, False):
        seen = len(sandbox.requests("flippingbook"))
        CreateTrackedLinkOperator(
            task_id=f"link_{reuse}", publication=result, title=f"Reader {reuse}", reuse_existing=reuse
        ).execute(context)
        sent = [(e.method, e.path.rsplit("/", 1)[-1]) for e in sandbox.requests("flippingbook")[seen:]]
        assert sent == [("GET", "tracked_links"), ("POST", "tracked_links")], reuse


def test_tracked_link_bad_input_is_refused_before_any_call(sandbox, context):
    for publication, title in (("not an id", "x"), ({"publication_id": "0" * 32}, "  ")):
        with pytest.raises(AirflowException):
            CreateTrackedLinkOperator(task_id="bad", publication=publication, title=title).execute(context)
    assert sandbox.requests("flippingbook") == []


# -- PapyrsMarkdownPageOperator ---------------------------------------------------------------------------

REPORT = (
    "# Weekly report\n\nAll **green**.\n\n| vendor | views |\n|---|---|\n| FB | 12 |\n\n## Details\n\nMore."
)


def test_markdown_page_uses_two_requests_plus_one_per_attachment(sandbox, samples, context, tmp_path):
    csv = tmp_path / "stats.csv"
    csv.write_text("vendor,views\nFB,12\n")
    result = PapyrsMarkdownPageOperator(
        task_id="page", title="Weekly", markdown=REPORT, folder="Reports", attachments=[str(csv)]
    ).execute(context)
    assert [r.path.rsplit("/api/v1/", 1)[1] for r in sandbox.requests("papyrs")] == [
        "pages/create/",
        f"page/{result['page_id']}/markdown/create/",
        f"page/{result['page_id']}/attachment/create/",
    ]
    assert result["widgets"] == 4 and result["attachments"] == ["stats.csv"]
    assert context["ti"].xcom["page_url"] == result["url"]


def test_markdown_page_replace_mode_and_discussion(sandbox, context, tmp_path):
    first = PapyrsMarkdownPageOperator(task_id="p", title="Daily", markdown=REPORT, folder="Ops").execute(
        context
    )
    md = tmp_path / "daily.md"
    md.write_text("# Daily\n\nNew numbers.")
    second = PapyrsMarkdownPageOperator(
        task_id="p",
        title="Daily",
        markdown=str(md),
        folder="Ops",
        if_exists="replace",
        discussion_post="Updated",
    ).execute({"ti": context["ti"]})
    assert second["replaced"] == [first["page_id"]] and second["post_id"]
    state = sandbox.state()["papyrs"]
    assert state["pages"] == 1 and state["discussion_posts"] == 1


@needs_task_state_store
def test_markdown_page_retry_finishes_the_same_page(sandbox, context):
    sandbox.fault("papyrs", status=500, route="markdown", count=10)
    operator = PapyrsMarkdownPageOperator(task_id="p", title="Retry", markdown=REPORT)
    operator_hook_fast = {"retry_min_wait": 0.01, "retry_max_wait": 0.02}
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_PAPYRS_DEFAULT"])
    conn["extra"].update(operator_hook_fast, max_retries=1)
    os.environ["AIRFLOW_CONN_PAPYRS_FAST"] = json.dumps(conn)
    operator.papyrs_conn_id = "papyrs_fast"
    with pytest.raises(AirflowException, match="HTTP 500"):
        operator.execute(context)
    sandbox.state_store.faults.clear()
    result = operator.execute(context)
    assert sandbox.state()["papyrs"]["pages"] == 1 and result["widgets"] == 4


def test_markdown_bad_input(sandbox, context):
    for markdown in ("", "   ", "/no/such/file.md"):
        with pytest.raises(AirflowException):
            PapyrsMarkdownPageOperator(task_id="p", title="T", markdown=markdown).execute(context)
    assert sandbox.requests("papyrs") == []


# -- FlipsnackDownloadPackageSensor -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_download_package_in_every_mode(sandbox, samples, context, tmp_path, mode):
    result = upload("flipsnack", samples["three"], wait_for_conversion=True).execute(context)
    waiting = FlipsnackDownloadPackageSensor(
        task_id="pkg",
        collection_hash=result["publication_id"],
        destination=str(tmp_path) + "/",
        poke_interval=0.3,
        timeout=60,
        deferrable=mode == "deferrable",
        mode="reschedule" if mode == "reschedule" else "poke",
    )
    final = {
        "poke": waiting.execute,
        "reschedule": lambda c: run_rescheduled(waiting, c),
        "deferrable": lambda c: run_deferred(waiting, c),
    }[mode](context)
    import zipfile

    assert final["status"] == "COMPLETE" and final["size"] > 0
    assert "index.html" in zipfile.ZipFile(final["destination"]).namelist()
    assert not list(tmp_path.glob("*.part"))


def test_download_after_the_url_would_have_expired(sandbox, samples, context, tmp_path):
    result = upload("flipsnack", samples["three"], wait_for_conversion=True).execute(context)
    waiting = FlipsnackDownloadPackageSensor(
        task_id="pkg",
        collection_hash=result["publication_id"],
        destination=str(tmp_path / "pkg.zip"),
        poke_interval=0.3,
        deferrable=True,
    )
    with pytest.raises(TaskDeferred) as deferred:
        waiting.execute(context)
    import asyncio

    async def first():
        return [e.payload async for e in deferred.value.trigger.run()][0]

    event = asyncio.run(first())
    assert "resource_url" not in str(event)
    time.sleep(60 / sandbox.state_store.speed + 0.2)  # any URL from before is dead now
    final = waiting.execute_complete(context, event=event)
    assert final["size"] == (tmp_path / "pkg.zip").stat().st_size


@pytest.mark.parametrize("refusals, succeeds", [(1, True), (2, False)])
def test_a_refused_package_url_is_asked_for_again_once(
    sandbox, samples, context, tmp_path, refusals, succeeds
):
    """Storage refusing the signed URL (expired: a Retry-After or a busy worker outlasted its 60 s)."""
    result = upload("flipsnack", samples["three"], wait_for_conversion=True).execute(context)
    sandbox.fault("flipsnack", route="_packages", status=403, count=refusals)
    waiting = FlipsnackDownloadPackageSensor(
        task_id="pkg",
        collection_hash=result["publication_id"],
        destination=str(tmp_path) + "/",
        poke_interval=0.2,
    )
    if succeeds:
        assert waiting.execute(context)["size"] > 0
    else:
        with pytest.raises(AirflowException, match="HTTP 403") as refused:
            waiting.execute(context)
        assert refused.value.status == 403
        assert not list(tmp_path.iterdir())
    downloads = [e for e in sandbox.requests("flipsnack") if "/_packages/" in e.path]
    assert [e.status for e in downloads] == [403] * refusals + ([200] if succeeds else [])
    assert len({e.path for e in downloads}) == len(downloads)  # each try with a freshly signed URL


def test_flippingbook_large_object_store_pdf_goes_by_signed_url(sandbox, samples, context, pdf_server):
    """An object store that can sign URLs (s3, gcs) lets FlippingBook fetch a PDF over the 1 MB inline limit."""
    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem

    served = pdf_server(samples["big"].read_bytes(), "signed.pdf")

    from airflow.sdk.io import attach

    class SigningMemoryFileSystem(MemoryFileSystem):  # stands in for s3fs/gcsfs, whose sign() makes a URL
        protocol = "signmem"

        @classmethod
        def _strip_protocol(cls, path):
            return super()._strip_protocol(path.removeprefix("signmem://"))

        def sign(self, path, expiration=100, **kwargs):
            return served + "?X-Signature=abc123"

    fsspec.register_implementation("signmem", SigningMemoryFileSystem, clobber=True)
    fs = SigningMemoryFileSystem()
    attach("signmem", fs=fs)
    fs.pipe("/bucket/big.pdf", samples["big"].read_bytes())
    result = upload("flippingbook", "signmem://bucket/big.pdf", wait_for_conversion=True).execute(context)
    assert result["total_pages"] == 3
    assert sandbox.state()["flippingbook"]["publications"] == 1


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_download_package_waits_while_the_new_collection_converts(
    sandbox, samples, context, tmp_path, mode, monkeypatch
):
    """The first night of catalog_nightly_refresh: the package is asked for right after the upload, while
    the vendor still answers code 38 "Collection is in processing state" (api-status-codes)."""
    from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook

    monkeypatch.setitem(
        sandbox.state_store.vendors["flipsnack"].options, "conversion_seconds", 60
    )  # ~1.2 s here
    result = upload("flipsnack", samples["three"]).execute(context)
    with pytest.raises(AirflowException) as busy:
        FlipsnackHook().call("collection.downloadHTML", collectionHash=result["publication_id"])
    assert busy.value.code == 38
    waiting = FlipsnackDownloadPackageSensor(
        task_id="pkg",
        collection_hash=result["publication_id"],
        destination=str(tmp_path) + "/",
        poke_interval=0.2,
        timeout=60,
        deferrable=mode == "deferrable",
    )
    final = waiting.execute(context) if mode == "poke" else run_deferred(waiting, context)
    assert final["status"] == "COMPLETE" and final["size"] > 0


# -- FlippingBook: what the documents say about sources and tracked links --------------------------------


def test_xfa_pdf_is_refused_before_upload_on_flippingbook(sandbox, samples, context):
    """The Source entity: "a single PDF file that is not password-protected and does not contain XFA (forms)"."""
    with pytest.raises(AirflowException, match="XFA form, which FlippingBook does not accept"):
        upload("flippingbook", samples["xfa"]).execute(context)
    assert sandbox.requests("flippingbook") == []
    assert upload("flipsnack", samples["xfa"]).execute(context)["pages"] == 2  # documented nowhere else


@pytest.mark.parametrize("when", ["report", "later"])  # the documents do not say when a bad source is known
def test_a_refused_first_source_reaches_the_user(sandbox, samples, context, monkeypatch, when):
    import airflow_provider_flipbook.utils.files as files

    sandbox.state_store.vendors["flippingbook"].options["created_source_errors"] = when
    monkeypatch.setattr(files, "check_pdf", lambda *a, **k: type("F", (), {"pages": 2, "size": 1})())
    if when == "report":
        with pytest.raises(
            AirflowException,
            match=r"publication.create source failed \(code InvalidData\): the PDF "
            r"was refused: Invalid source: PDFs with XFA forms",
        ):
            upload("flippingbook", samples["xfa"]).execute(context)
    else:
        result = upload("flippingbook", samples["xfa"]).execute(context)
        with pytest.raises(AirflowException, match="vanished|CompletedWithErrors"):
            sensor("flippingbook", result).execute(context)
    assert sandbox.state()["flippingbook"]["publications"] == 0  # an only source takes its publication along


@pytest.mark.parametrize("link_url", [False, True])  # documented: urlName only; some answers may carry a url
def test_tracked_link_url_on_a_custom_domain(sandbox, samples, context, link_url):
    emulator = sandbox.state_store.vendors["flippingbook"]
    emulator.options["link_url"] = link_url
    emulator.state.custom_domains = ["docs.example.com"]
    result = upload("flippingbook", samples["small"], domain="docs.example.com").execute(context)
    assert result["url"].startswith("https://docs.example.com/view/")
    link = CreateTrackedLinkOperator(task_id="link", publication=result, title="Ann").execute(context)
    if link_url:
        assert (
            link["url"] == f"{sandbox.url}/flippingbook/link/{link['url_name']}"
        )  # the vendor's own URL wins
    else:
        assert link["url"] == f"https://docs.example.com/link/{link['url_name']}"


def test_tracked_link_url_on_the_default_domain_opens_the_publication(sandbox, samples, context):
    import requests

    result = upload("flippingbook", samples["small"]).execute(context)
    link = CreateTrackedLinkOperator(task_id="link", publication=result, title="Bob").execute(context)
    assert link["url"] == f"{sandbox.url}/flippingbook/link/{link['url_name']}"
    assert requests.get(link["url"], timeout=5).url == result["url"]


def test_not_opened_until_is_sent_as_an_iso_8601_date_time(sandbox, samples, context):
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

    result = upload("flippingbook", samples["small"]).execute(context)
    link = CreateTrackedLinkOperator(
        task_id="link", publication=result, title="Cy", not_opened_until="2026-06-20T09:00:00+02:00"
    ).execute(context)
    until = FlippingBookHook().get_tracked_link(link["link_id"])["triggers"]["onNotOpenedUntil"]
    assert until == {"enabled": True, "until": "2026-06-20T07:00:00Z"}
    before = len(sandbox.requests("flippingbook"))
    with pytest.raises(AirflowException, match="not an ISO 8601 date-time: 'next friday'"):
        CreateTrackedLinkOperator(
            task_id="bad", publication=result, title="Di", not_opened_until="next friday"
        ).execute(context)
    assert len(sandbox.requests("flippingbook")) == before


@pytest.mark.parametrize("vendor", ["flippingbook", "ipaper", "flipsnack"])
def test_deferred_upload_returns_the_whole_upload_without_defer_kwargs(sandbox, samples, context, vendor):
    """Airflow 3.3.2's dag.test() drops the kwargs given to defer(): the upload rides in the event."""
    import asyncio
    import importlib

    from airflow_provider_flipbook._compat import TaskDeferred

    operator = UploadPdfOperator(
        task_id="u",
        conn_id=f"{vendor}_default",
        pdf=str(samples["small"]),
        name="Event",
        wait_for_conversion=True,
        deferrable=True,
        poll_interval=0.05,
    )
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    classpath, kwargs = deferred.value.trigger.serialize()
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))

    async def first_event():
        return [event async for event in trigger.run()][0]

    result = operator.execute_complete(context, event=asyncio.run(first_event()).payload)  # no upload kwarg
    assert result["vendor"] == vendor and result["conn_id"] == f"{vendor}_default"
    assert result["publication_id"] and result["version_id"] and result["url"]
    assert result["pages"] == 4 and result["total_pages"] == 4 and result["conversion"]


def test_two_runs_replacing_the_same_page_both_succeed(sandbox, context, monkeypatch):
    """Two runs of a report DAG at once, both if_exists="replace": the slower one finds the old page gone."""
    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

    old = PapyrsMarkdownPageOperator(task_id="p", title="Daily", markdown=REPORT, folder="Ops").execute({})
    real_delete = PapyrsHook.delete_page

    def colleague_deletes_it_first(self, page_id):
        real_delete(PapyrsHook(), page_id)  # the other run, a moment earlier
        return real_delete(self, page_id)

    monkeypatch.setattr(PapyrsHook, "delete_page", colleague_deletes_it_first)
    new = PapyrsMarkdownPageOperator(
        task_id="p", title="Daily", markdown=REPORT, folder="Ops", if_exists="replace"
    ).execute({})
    assert new["replaced"] == [old["page_id"]] and sandbox.state()["papyrs"]["pages"] == 1
