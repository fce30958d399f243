"""What a user is shown: only absolute URLs reach XCom and extra links, every host a task calls is
checked by ``test_connection``, connection errors name the host they tried, and the logs say what was
published where. Against the sandbox over loopback."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_flipbook._compat import AirflowException, Connection
from airflow_provider_flipbook.exceptions import TransientApiError
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook, derive_upload_url
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.sensors import PdfConversionSensor
from airflow_provider_flipbook.utils.urls import origin, public_url
from tests.conftest import run_deferred


@pytest.fixture
def logged(caplog, capsys):
    """Everything logged so far: stdlib records, and what Airflow's structlog loggers print."""
    caplog.set_level(logging.INFO)
    seen: list[str] = []

    def text() -> str:
        seen.append(capsys.readouterr().out)
        return "\n".join([caplog.text, *seen])

    return text


def lines(text: str, start: str) -> list[str]:
    return [line[line.index(start) :] for line in text.splitlines() if start in line]


def set_connection(monkeypatch, conn_id: str, conn: dict) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def without(conn: dict, *extras: str) -> dict:
    return {**conn, "extra": {k: v for k, v in conn["extra"].items() if k not in extras}}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.ipapercms.dk/demos/21/", "https://x.ipapercms.dk/demos/21/"),
        ("http://127.0.0.1:8765/ipaper/viewer/a/", "http://127.0.0.1:8765/ipaper/viewer/a/"),
        ("/ui-test-ipaper/", None),
        ("ui-test-ipaper/", None),
        ("javascript:alert(1)", None),
        ("https:///no-host", None),
        (None, None),
        ("", None),
    ],
)
def test_only_absolute_http_urls_are_public(url, expected):
    assert public_url(url) == expected


def test_origin_names_the_host_and_never_the_userinfo():
    assert origin("https://user:pw@api.example.com:8443/v1/?apiKey=K") == "https://api.example.com:8443"
    assert origin("http://127.0.0.1/x") == "http://127.0.0.1"


# -- connection errors name the host ------------------------------------------------------------


def test_a_connection_error_names_the_host_it_tried_and_no_credential(monkeypatch):
    from airflow_provider_flipbook.sandbox.server import free_port

    port = free_port()
    set_connection(
        monkeypatch,
        "refused",
        {
            "conn_type": "flipsnack",
            "host": f"http://Login-Distinct-77:{'Secret-Distinct-77'}@127.0.0.1:{port}/flipsnack",
            "login": "Key-Distinct-77",
            "password": "Secret-Distinct-77",
            "extra": {"max_retries": 0},
        },
    )
    hook = FlipsnackHook("refused")
    with pytest.raises(TransientApiError) as error:
        hook.user_stats()
    assert f"connection to http://127.0.0.1:{port} failed (ConnectionError)" in str(error.value)
    for secret in ("Login-Distinct-77", "Secret-Distinct-77", "Key-Distinct-77", "signature", "?"):
        assert secret not in str(error.value)
    ok, message = hook.test_connection()
    assert not ok and f"http://127.0.0.1:{port}" in message


# -- Flipsnack's upload host ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "upload"),
    [
        ("https://api.flipsnack.com", "https://upload.flipsnack.com"),
        ("https://api.partner.example:8443/", "https://upload.partner.example:8443"),
        ("http://127.0.0.1:8765/flipsnack", "http://127.0.0.1:8765/flipsnack-upload"),
        ("https://flipsnack.partner.example", None),
        ("http://127.0.0.1:8765/other", None),
    ],
)
def test_the_upload_host_is_derived_only_where_a_layout_is_known(api, upload):
    assert derive_upload_url(api) == upload


def test_an_overridden_api_host_uploads_to_its_own_upload_host(sandbox, samples, context, monkeypatch):
    set_connection(monkeypatch, "fs_form", without(sandbox.connections()["flipsnack"], "upload_host"))
    assert FlipsnackHook("fs_form").upload_url == sandbox.url + "/flipsnack-upload"
    result = UploadPdfOperator(
        task_id="up", conn_id="fs_form", pdf=str(samples["small"]), name="Form-made"
    ).execute(context)
    assert result["publication_id"] and sandbox.state()["flipsnack"]["collections"] == 1
    assert any(e.method == "POST" and "flipsnack-upload" in e.path for e in sandbox.requests("flipsnack"))


def test_an_underivable_upload_host_is_refused_before_any_call(sandbox, samples, context, monkeypatch):
    conn = without(sandbox.connections()["flipsnack"], "upload_host")
    set_connection(monkeypatch, "fs_partner", {**conn, "host": sandbox.url + "/partner-api"})
    with pytest.raises(AirflowException, match=r"sets no upload_host.*set the extra upload_host"):
        UploadPdfOperator(task_id="up", conn_id="fs_partner", pdf=str(samples["small"])).execute(context)
    assert sandbox.requests("flipsnack") == []
    ok, message = FlipsnackHook("fs_partner").test_connection()
    assert not ok and "upload_host" in message


def test_test_connection_checks_the_upload_host_too(sandbox, monkeypatch):
    conn = sandbox.connections()["flipsnack"]
    set_connection(monkeypatch, "fs_ok", conn)
    ok, message = FlipsnackHook("fs_ok").test_connection()
    assert ok and "upload host" in message
    assert [e.method for e in sandbox.requests("flipsnack") if "flipsnack-upload" in e.path] == ["GET"]
    # An upload host that answers, but not as Flipsnack: the Test fails, naming it.
    wrong = {**conn, "extra": {**conn["extra"], "upload_host": sandbox.url + "/_sandbox/health"}}
    set_connection(monkeypatch, "fs_wrong", wrong)
    ok, message = FlipsnackHook("fs_wrong").test_connection()
    assert not ok and sandbox.url in message and "upload_host" in message


# -- iPaper without a viewer base URL ------------------------------------------------------------------


def test_ipaper_without_a_viewer_leaves_the_link_out_and_says_so(
    sandbox, samples, context, monkeypatch, logged
):
    set_connection(monkeypatch, "ip_form", without(sandbox.connections()["ipaper"], "viewer_base_url"))
    operator = UploadPdfOperator(
        task_id="up",
        conn_id="ip_form",
        pdf=str(samples["small"]),
        name="No viewer",
        wait_for_conversion=True,
        poll_interval=0.05,
    )
    result = operator.execute(context)
    assert result["publication_id"] and result["url"] is None and result["total_pages"] == 4
    assert "flipbook_url" not in context["ti"].xcom
    assert "sets no viewer_base_url, so no link is shown" in logged()
    ok, message = IPaperHook("ip_form").test_connection()
    assert ok and "no viewer_base_url" in message and "https://<account>.ipapercms.dk" in message


def test_ipaper_rejects_a_viewer_base_url_that_is_not_absolute(sandbox, monkeypatch):
    conn = sandbox.connections()["ipaper"]
    set_connection(
        monkeypatch, "ip_bad", {**conn, "extra": {**conn["extra"], "viewer_base_url": "ipaper/viewer"}}
    )
    ok, message = IPaperHook("ip_bad").test_connection()
    assert not ok and "must be an absolute http(s) URL" in message


def test_the_extra_link_never_opens_a_relative_url(monkeypatch):
    from airflow_provider_flipbook import links

    stored = {"flipbook_url": "/ui-test-ipaper/"}
    monkeypatch.setattr(links.XCom, "get_value", staticmethod(lambda key, ti_key: stored.get(key)))
    assert links.ViewFlipbookLink().get_link(None, ti_key=None) == ""
    stored["flipbook_url"] = "https://x.ipapercms.dk/ui-test-ipaper/"
    assert links.ViewFlipbookLink().get_link(None, ti_key=None) == "https://x.ipapercms.dk/ui-test-ipaper/"


# -- what the logs say -------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["flippingbook", "ipaper", "flipsnack"])
def test_the_logs_say_what_was_published_where(sandbox, samples, context, logged, vendor):
    operator = UploadPdfOperator(
        task_id="up",
        conn_id=f"{vendor}_default",
        pdf=str(samples["three"]),
        name=f"Logged {vendor}",
        wait_for_conversion=True,
        deferrable=True,
        poll_interval=0.05,
    )
    result = run_deferred(operator, context)
    text = logged()
    published = lines(text, "Published 'Logged")
    assert published and result["publication_id"] in published[0] and result["url"] in published[0]
    assert lines(text, "Deferring: the triggerer waits for the")
    converted = lines(text, "Converted (")
    assert converted and result["url"] in converted[-1] and "3 pages" in converted[-1]


def test_the_sensor_logs_what_it_waits_for_and_the_url(sandbox, samples, context, logged):
    upload = UploadPdfOperator(
        task_id="up", conn_id="flippingbook_default", pdf=str(samples["long"])
    ).execute(context)
    sensor = PdfConversionSensor(
        task_id="wait",
        conn_id="flippingbook_default",
        upload=upload["publication_id"],
        poke_interval=0.05,
        deferrable=True,
        timeout=60,
    )
    summary = run_deferred(sensor, context)
    text = logged()
    assert lines(text, f"waits for the conversion of publication {upload['publication_id']}")
    assert summary["url"] and summary["url"] in lines(text, "Converted (")[-1]


def test_a_failed_download_names_the_host_and_not_the_signed_query(pdf_server):
    url = pdf_server(b"%PDF-1.4", "package.zip").replace("package.zip", "gone.zip?Signature=Secret-Sig-42")
    hook = FlipsnackHook(connection=Connection(conn_id="fs", conn_type="flipsnack", login="K", password="S"))
    with pytest.raises(Exception) as error:
        hook.download(url, lambda chunk: None)
    host = url.split("/gone.zip")[0]
    assert f"the download URL at {host} answered HTTP 404" in str(error.value)
    assert "Secret-Sig-42" not in str(error.value)
