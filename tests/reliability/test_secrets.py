"""Credentials never appear in logs, XComs, rendered templates, exception texts or request URLs.

These tests check what our code writes, with Airflow's masking out of the picture (it is off
outside real runs); the e2e test scans the logs of a real `airflow standalone` run as well.
"""

import json
import logging

import pytest
from airflow.sdk import Connection

from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.sensors import PdfConversionSensor
from airflow_provider_flipbook.sensors.flipsnack import FlipsnackDownloadPackageSensor
from airflow_provider_flipbook.vendors import VENDORS


def secrets_of(sandbox) -> list[str]:
    return [
        *sandbox.state_store.credentials.values(),
        sandbox.state_store.credentials.flipsnack_key,
        *sandbox.state_store.signatures,
    ]


def test_nothing_leaks_from_a_full_publishing_flow(sandbox, samples, context, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    results = []
    for vendor in ("flippingbook", "ipaper", "flipsnack"):
        upload = UploadPdfOperator(
            task_id=f"u_{vendor}",
            conn_id=f"{vendor}_default",
            pdf=str(samples["small"]),
            name=f"Secret test {vendor}",
            poll_interval=0.05,
        )
        results.append(upload.execute(context))
        results.append(
            PdfConversionSensor(
                task_id="w", conn_id=f"{vendor}_default", upload=results[-1], poke_interval=0.05
            ).execute(context)
        )
    results.append(
        CreateTrackedLinkOperator(task_id="l", publication=results[0], title="Ann").execute(context)
    )
    results.append(
        FlipsnackDownloadPackageSensor(
            task_id="d",
            collection_hash=results[4]["publication_id"],
            destination=str(tmp_path) + "/",
            poke_interval=0.2,
        ).execute(context)
    )
    results.append(
        PapyrsMarkdownPageOperator(task_id="p", title="S", markdown="# S", discussion_post="hi").execute(
            context
        )
    )
    out, err = capfd.readouterr()
    haystack = "\n".join([caplog.text, out, err, json.dumps(results), json.dumps(context["ti"].xcom)])
    secrets = secrets_of(sandbox)
    assert len(sandbox.state_store.signatures) >= 3  # create, getCollection, downloadHTML
    for secret in secrets:
        assert secret not in haystack


def test_no_credential_in_any_request_url(sandbox, samples, context):
    UploadPdfOperator(task_id="u", conn_id="ipaper_default", pdf=str(samples["small"]), name="Url").execute(
        context
    )
    PapyrsMarkdownPageOperator(task_id="p", title="U", markdown="# U").execute(context)
    UploadPdfOperator(
        task_id="u", conn_id="flippingbook_default", pdf=str(samples["small"]), name="U"
    ).execute(context)
    log = sandbox.requests()
    assert log and not [entry for entry in log if entry.credential_in_url]
    for entry in log:
        for secret in secrets_of(sandbox):
            assert secret not in entry.path + entry.query


def test_ipaper_credentials_travel_only_in_post_bodies(sandbox, samples, context):
    UploadPdfOperator(
        task_id="u",
        conn_id="ipaper_default",
        pdf=str(samples["small"]),
        name="Body",
        wait_for_conversion=True,
        poll_interval=0.05,
    ).execute(context)
    entries = sandbox.requests("ipaper")
    assert entries and all(e.method == "POST" and e.query == "" for e in entries)


def test_rendered_template_fields_hold_no_credential(sandbox, samples):
    import jinja2

    operator = UploadPdfOperator(
        task_id="u",
        conn_id="{{ params.conn }}",
        pdf=str(samples["small"]),
        name="{{ params.name }}",
        pdf_password="pdf-pass-123456",
    )
    operator.render_template_fields(
        {"params": {"conn": "flippingbook_default", "name": "N"}}, jinja_env=jinja2.Environment()
    )
    rendered = json.dumps({field: str(getattr(operator, field)) for field in operator.template_fields})
    assert "pdf-pass-123456" not in rendered
    for secret in secrets_of(sandbox):
        assert secret not in rendered


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_exception_texts_hold_no_credential(sandbox, vendor, monkeypatch):
    conn = dict(sandbox.connections()[vendor])
    conn.update(
        password="Wrong-Distinctive-Secret-42",
        **({"login": "Wrong-Distinctive-Login-42"} if conn.get("login") and vendor != "ipaper" else {}),
    )
    from airflow_provider_flipbook.hooks import hook_class

    hook = hook_class(vendor)(
        connection=Connection(conn_id="x", **{**conn, "extra": json.dumps(conn["extra"])})
    )
    ok, message = hook.test_connection()
    assert not ok
    with pytest.raises(Exception) as error:
        hook._probe()
    for text in (message, str(error.value), repr(error.value)):
        assert "Wrong-Distinctive-Secret-42" not in text and "Wrong-Distinctive-Login-42" not in text


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_vendor_that_echoes_the_credentials_in_an_error_leaks_nothing(sandbox, vendor, status, caplog):
    """The vendor repeats what it received in its error text: the hook's error and logs hide it."""
    from airflow_provider_flipbook.hooks import hook_class

    caplog.set_level(logging.DEBUG)
    conn = dict(sandbox.connections()[vendor])
    conn["extra"] = json.dumps({**conn["extra"], "max_retries": 1, "retry_min_wait": 0.01})
    hook = hook_class(vendor)(connection=Connection(conn_id="echo", **conn))
    sandbox.fault(vendor, kind="echo", status=status, count=2)
    with pytest.raises(Exception) as error:
        hook._probe()
    assert "credentials ***" in str(error.value), str(error.value)  # the echo arrived, redacted
    for text in (str(error.value), repr(error.value), caplog.text):
        for secret in secrets_of(sandbox):
            assert secret not in text


def test_connection_errors_do_not_echo_signed_urls():
    hook = FlipsnackHook(
        connection=Connection(
            conn_id="fs",
            conn_type="flipsnack",
            host="http://127.0.0.1:9",
            login="KEY-abcdef-1",
            password="SECRET-abcdef-1",
            extra=json.dumps({"max_retries": 0}),
        )
    )
    with pytest.raises(Exception) as error:
        hook.user_stats()
    assert "connection to http://127.0.0.1:9 failed" in str(error.value)
    assert "KEY-abcdef-1" not in str(error.value) and "signature" not in str(error.value)


def test_signatures_are_registered_with_the_masker():
    from airflow.sdk._shared.secrets_masker import redact

    hook = FlipsnackHook(connection=Connection(conn_id="fs", conn_type="flipsnack", login="K", password="S"))
    signature = hook.signed("user.getStats", {})["signature"]
    assert redact(f"calling with {signature} now") == "calling with *** now"


def test_the_sandbox_access_log_carries_no_query_whoever_switches_it_on(sandbox, caplog):
    """uvicorn decides per connection from the process-wide ``uvicorn.access`` logger whether to log a
    request line (query included): once another uvicorn server in the process (the webhook receiver's
    tests, a user's own) configures that logger, the sandbox's lines must still carry no Flipsnack key
    or signature. The line is logged exactly as uvicorn's protocols log it."""
    key = sandbox.state_store.credentials.flipsnack_key
    access = logging.getLogger("uvicorn.access")
    propagate = access.propagate
    access.propagate = True  # let caplog see the records
    try:
        caplog.set_level(logging.INFO, logger="uvicorn.access")
        path = f"/flipsnack/v1/?apiKey={key}&action=user.getStats&signature=0123abcd"
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
        assert '"GET /flipsnack/v1/?*** HTTP/1.1" 200' in caplog.text
        assert key not in caplog.text and "0123abcd" not in caplog.text
    finally:
        access.propagate = propagate
