"""Hook logic that needs no server: auth details, signatures, error shapes, XML hardening, URLs, pacing."""

import gc
import json
import os
import re
import time
from typing import Any

import pytest
import requests
from airflow.sdk import Connection
from airflow.sdk.exceptions import AirflowException

from airflow_provider_flipbook.exceptions import TransientApiError, VendorApiError
from airflow_provider_flipbook.hooks.base import parse_retry_after
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook, error_fields, inline_request_fits
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook, sign
from airflow_provider_flipbook.hooks.ipaper import IPaperHook, base64_form_chunks, parse_xml, text
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook
from airflow_provider_flipbook.utils.ratelimit import BucketPacer, SlidingWindow, TokenBucket, parse_limit


def test_flipsnack_signature_reproduces_the_vendors_worked_example():
    params = {"action": "collection.getCollection", "collectionHash": "fxh4k89", "apiKey": "45FD-267-7SG7832"}
    assert sign("123ABCDE-456-7890-FGH", params) == "26e781d3d1751d82ec284acf4a019def"


def test_flipsnack_signature_excludes_signature_and_file_and_signs_booleans_as_sent():
    base = {"action": "a", "apiKey": "k", "flag": True}
    assert sign("s", {**base, "signature": "x", "file": "y"}) == sign("s", base)
    assert sign("s", base) == sign("s", {**base, "flag": "true"})


def test_flipsnack_signed_query_carries_key_action_and_signature():
    hook = FlipsnackHook(
        connection=Connection(conn_id="fs", conn_type="flipsnack", login="KEY", password="SECRET")
    )
    query = hook.signed("collection.getStats", {"collectionHash": "abc", "skip": None})
    assert query["apiKey"] == "KEY" and query["action"] == "collection.getStats" and "skip" not in query
    assert query["signature"] == sign("SECRET", {k: v for k, v in query.items() if k != "signature"})
    assert "SECRET" not in json.dumps(query)


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {"success": False, "error": {"wellKnownError": "InvalidApiKey", "message": "bad"}},
            ("InvalidApiKey", "bad"),
        ),
        ({"success": False, "errors": [{"wellKnownError": 7, "errorCode": "X", "message": "m"}]}, ("7", "m")),
        (
            {"success": False, "wellKnownError": "ObjectNotFound", "message": "gone", "error": "detail"},
            ("ObjectNotFound", "gone"),
        ),
        (
            {"Success": False, "Error": {"WellKnownError": "KeyLimitExceeded", "Message": "10 keys"}},
            ("KeyLimitExceeded", "10 keys"),
        ),
        ({"success": False, "error": "SomeCode"}, ("SomeCode", None)),
    ],
)
def test_flippingbook_reads_every_documented_error_shape(body, expected):
    assert error_fields(body) == expected


def test_flippingbook_inline_limit_accounts_for_base64_and_envelope():
    assert inline_request_fits(700_000)
    assert not inline_request_fits(760_000)


def test_bearer_header_is_set_per_request_and_not_on_the_session():
    hook = FlippingBookHook(
        connection=Connection(conn_id="fb", conn_type="flippingbook", password="k-123456")
    )
    prepared = requests.Request("GET", "https://x/api", auth=hook._auth()).prepare()
    assert prepared.headers["Authorization"] == "Bearer k-123456"
    assert "Authorization" not in hook.session.headers
    assert hook.session.headers["User-Agent"].startswith("airflow-provider-flipbook/")


def test_papyrs_token_goes_in_the_header_never_the_url():
    hook = PapyrsHook(
        connection=Connection(
            conn_id="p", conn_type="papyrs", host="https://acme.papyrs.com", password="tok-987654"
        )
    )
    prepared = requests.Request("GET", hook.api_url("pages/all/"), auth=hook._auth()).prepare()
    assert prepared.headers["X-Auth-Token"] == "tok-987654"
    assert "tok-987654" not in prepared.url
    assert prepared.url == "https://acme.papyrs.com/@home/api/v1/pages/all/"
    assert hook.api_url("people/invite/", site_wide=True) == "https://acme.papyrs.com/api/v1/people/invite/"


def test_ipaper_credentials_are_form_fields_in_both_modes():
    user = IPaperHook(
        connection=Connection(conn_id="i", conn_type="ipaper", login="me@example.com", password="pw-1")
    )
    assert user.credentials() == {
        "plUsername": "me@example.com",
        "plPassword": "pw-1",
        "username": "me@example.com",
        "password": "pw-1",
    }
    key = IPaperHook(
        connection=Connection(
            conn_id="i",
            conn_type="ipaper",
            login="APIKey",
            password="key-1",
            extra=json.dumps({"credential_fields": "pl"}),
        )
    )
    assert key.credentials() == {"plUsername": "APIKey", "plPassword": "key-1"}


@pytest.mark.parametrize(
    "host, port, schema, expected",
    [
        (None, None, None, "https://api-tc.is.flippingbook.com"),
        ("http://127.0.0.1:8765/flippingbook/", None, None, "http://127.0.0.1:8765/flippingbook"),
        ("partner.example.com", 8443, None, "https://partner.example.com:8443"),
        ("127.0.0.1", 9000, "flippingbook", "https://127.0.0.1:9000/flippingbook"),
    ],
)
def test_a_host_in_the_connection_replaces_the_default_base_url(host, port, schema, expected):
    conn = Connection(
        conn_id="fb", conn_type="flippingbook", host=host, port=port, schema=schema, password="k"
    )
    assert FlippingBookHook(connection=conn).base_url == expected


def test_papyrs_without_host_says_what_is_missing():
    hook = PapyrsHook(connection=Connection(conn_id="p", conn_type="papyrs", password="t"))
    with pytest.raises(AirflowException, match="has no host.*site URL"):
        _ = hook.base_url


def test_missing_password_is_a_clear_error_before_any_request():
    hook = FlippingBookHook(connection=Connection(conn_id="fb", conn_type="flippingbook"))
    with pytest.raises(AirflowException, match="'fb' .* has no password: set it to the FlippingBook API key"):
        hook.me()


def test_uri_and_json_connections_from_the_environment(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_FS_URI", "flipsnack://KEY1:SECRET1@api.example.com?upload_host=https%3A%2F%2Fup"
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_FS_JSON",
        json.dumps(
            {
                "conn_type": "flipsnack",
                "login": "KEY2",
                "password": "SECRET2",
                "extra": {"upload_host": "https://u2"},
            }
        ),
    )
    uri, js = FlipsnackHook("fs_uri"), FlipsnackHook("fs_json")
    assert (uri.connection.login, uri.upload_url, uri.base_url) == (
        "KEY1",
        "https://up",
        "https://api.example.com",
    )
    assert (js.connection.password, js.upload_url, js.base_url) == (
        "SECRET2",
        "https://u2",
        "https://api.flipsnack.com",
    )


def test_a_three_character_credential_is_redacted_shorter_ones_are_not_words_to_hide():
    hook = PapyrsHook(connection=Connection(conn_id="p", conn_type="papyrs", host="h", password="k3y"))
    assert hook.redact("the token k3y was refused") == "the token *** was refused"
    short = PapyrsHook(connection=Connection(conn_id="p", conn_type="papyrs", host="h", password="ab"))
    assert short.redact("a tab") == "a tab"


def test_an_extra_is_read_as_declared_and_a_bad_value_names_the_connection():
    hook = FlippingBookHook(
        connection=Connection(
            conn_id="fb_typo", conn_type="flippingbook", password="x", extra='{"max_retries": "many"}'
        )
    )
    with pytest.raises(AirflowException, match="fb_typo") as error:
        hook.setting("max_retries")
    assert "many" in str(error.value)
    with pytest.raises(KeyError, match="FlippingBookHook declares no extra 'no_such_extra'"):
        hook.setting("no_such_extra")


def test_constructing_a_hook_touches_no_connection(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("connection fetched in the constructor")

    monkeypatch.setattr(FlippingBookHook, "get_connection", classmethod(boom))
    FlippingBookHook("anything")


def test_redaction_replaces_credentials_in_messages():
    hook = FlipsnackHook(
        connection=Connection(
            conn_id="fs", conn_type="flipsnack", login="KEY-abcdef", password="SECRET-abcdef"
        )
    )
    assert hook.redact("bad SECRET-abcdef and KEY-abcdef") == "bad *** and ***"


# -- iPaper XML --------------------------------------------------------------------------------------


def test_ipaper_code_in_padded_cdata_is_trimmed_and_read_by_xpath():
    root = parse_xml(
        b'<?xml version="1.0" encoding="utf-8"?><result><message/><code>\n  <![CDATA[ SUCCESS ]]>\n'
        b'</code><data><paper id="5" /></data></result>'
    )
    assert text(root, "/result/code") == "SUCCESS"
    assert text(root.find("data"), "paper/@id") == "5"


def test_ipaper_parser_refuses_xxe_without_reading_the_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    payload = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        f"<result><code>SUCCESS</code><message>&x;</message></result>"
    ).encode()
    with pytest.raises(ValueError, match="DOCTYPE"):
        parse_xml(payload)


def test_ipaper_parser_refuses_entity_expansion():
    lol = (
        '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>"
    )
    with pytest.raises(ValueError):
        parse_xml(f"<?xml version='1.0'?>{lol}<result><code>&i;</code></result>".encode())


def test_ipaper_parser_resolves_no_entities_even_without_doctype_check():
    from lxml import etree

    from airflow_provider_flipbook.utils.safe_xml import SAFE_PARSER

    assert SAFE_PARSER.resolvers is not None
    root = etree.fromstring(b"<r>&amp;</r>", SAFE_PARSER)
    assert root.text == "&"


def test_streamed_base64_form_value_decodes_to_the_original(tmp_path):
    import base64
    import io
    from urllib.parse import unquote

    data = bytes(range(256)) * 5000
    encoded = b"".join(base64_form_chunks(io.BytesIO(data)))
    assert base64.b64decode(unquote(encoded.decode())) == data
    assert b"+" not in encoded and b"/" not in encoded and b"=" not in encoded


# -- transport pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("3", 3.0), ("0", 0.0), (None, None), ("soon", None)])
def test_retry_after_parsing(value, expected):
    assert parse_retry_after(value) == expected


def test_retry_after_as_http_date():
    import email.utils
    import time

    assert 8 <= parse_retry_after(email.utils.formatdate(time.time() + 10, usegmt=True)) <= 10


def test_sliding_window_pacer_spaces_calls():
    clock = [0.0]
    pacer = BucketPacer([SlidingWindow(2, 10.0)], clock=lambda: clock[0])

    def sleep(seconds):
        clock[0] += seconds

    times = []
    for _ in range(5):
        pacer.acquire(sleep)
        times.append(clock[0])
    assert times == pytest.approx([0.0, 0.0, 10.0, 10.0, 20.0], abs=0.01)


@pytest.mark.parametrize("scope", ["process", "host"])
def test_token_bucket_is_paced_as_its_sliding_window_burst_then_the_same_rate(scope, tmp_path, monkeypatch):
    """A burst of 10 then 1/s is paced as 10 per 10 s: the same burst and long-run rate, and it also
    meets FlippingBook's older wording (the next request after a burst comes after 10 s). On a fake
    clock, in memory and in the host scope's SQLite file under its booking lock: 31 calls take the
    token bucket's floor, no more (a FlippingBook batch at the vendor's pace) and no less."""
    import tempfile

    from airflow_provider_flipbook.utils.pacing import host_pacer

    clock = [1000.0]
    limits = [TokenBucket(burst=10, rate=1.0)]
    if scope == "host":
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        pacer = host_pacer("flippingbook-test", limits)
        assert isinstance(pacer, BucketPacer)
        pacer._clock = lambda: clock[0]
    else:
        pacer = BucketPacer(limits, clock=lambda: clock[0])
    waits = [pacer.acquire(lambda s: clock.__setitem__(0, clock[0] + s)) for _ in range(31)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(10.0, abs=0.01) and waits[11:20] == [0.0] * 9
    assert clock[0] - 1000.0 == pytest.approx(30.0, abs=0.01)  # 31 calls: (31 - burst) / rate


def test_pacer_starts_over_when_the_clock_goes_back():
    clock = [1000.0]
    pacer = BucketPacer([SlidingWindow(1, 10.0)], clock=lambda: clock[0])
    assert pacer.try_acquire() == 0.0 and pacer.try_acquire() == pytest.approx(10.0, abs=0.01)
    clock[0] = 100.0  # a stamp 900 s in the future would otherwise block for 15 minutes
    assert pacer.try_acquire() == 0.0


def test_rate_limit_override_and_pacing_speed_from_extras():
    hook = PapyrsHook(
        connection=Connection(
            conn_id="p",
            conn_type="papyrs",
            host="h",
            password="t",
            extra=json.dumps({"rate_limit": "12/60", "pacing_speed": 4}),
        )
    )
    assert hook.limits == (SlidingWindow(12, 15.0 * 1.02),)
    with pytest.raises(ValueError, match="calls/seconds"):
        parse_limit("fast")


@pytest.mark.parametrize(
    "text, window",
    [
        ("6/60", SlidingWindow(6, 60.0)),
        ("6", SlidingWindow(6, 1.0)),
        ("1/60", SlidingWindow(1, 60.0)),
        ("5/1", SlidingWindow(5, 1.0)),
        ("5/0.5", SlidingWindow(5, 0.5)),
    ],
)
def test_a_rate_limit_override_is_calls_per_seconds_one_second_by_default(text, window):
    assert parse_limit(text) == window


@pytest.mark.parametrize("text", ["0/60", "6/0", "-1/60", "6/-5"])
def test_a_rate_limit_override_must_allow_a_call_in_a_positive_period(text):
    with pytest.raises(ValueError, match=f"at least one call in a positive period, got '{text}'"):
        parse_limit(text)


def test_host_pacer_shares_one_budget_between_processes(tmp_path, monkeypatch):
    """The host scope: pyrate-limiter's SQLite bucket under a file lock, also used by another process."""
    import os
    import subprocess
    import sys
    import tempfile

    from airflow_provider_flipbook.utils.pacing import host_pacer

    script = (
        "import sys; from airflow_provider_flipbook.utils.pacing import host_pacer;"
        "from airflow_provider_flipbook.utils.ratelimit import SlidingWindow;"
        "p = host_pacer('papyrs-test', [SlidingWindow(3, 30.0)]); print(p.try_acquire(), p.try_acquire())"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    assert other.stdout.split() == ["0.0", "0.0"]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # what gettempdir() answers in this process
    ours = host_pacer("papyrs-test", [SlidingWindow(3, 30.0)])
    assert ours.try_acquire() == 0.0
    assert 25.0 < ours.try_acquire() <= 30.01  # the other process's two calls count here too
    assert list((tmp_path / "airflow-provider-flipbook-pacing").glob("papyrs-test.sqlite"))


def test_a_host_booking_that_finds_the_lock_held_asks_again_within_a_millisecond(tmp_path, monkeypatch):
    """A booking holds the host's lock about a millisecond; filelock asks again for a held lock every
    50 ms by default, so a process whose booking met another's (the triggerer's poll and an upload)
    slept fifty times too long (5 vendor s at the benchmarks' speed)."""
    import tempfile

    import filelock

    from airflow_provider_flipbook.utils.pacing import host_pacer

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    polls: list[float | None] = []
    acquire = filelock.BaseFileLock.acquire

    def recorded(lock: filelock.BaseFileLock, *args: Any, **kwargs: Any) -> Any:
        if str(lock.lock_file).endswith(".booking.lock"):
            polls.append(kwargs.get("poll_interval"))
        return acquire(lock, *args, **kwargs)

    monkeypatch.setattr(filelock.BaseFileLock, "acquire", recorded)
    pacer = host_pacer("papyrs-test", [SlidingWindow(3, 30.0)])
    assert pacer.try_acquire() == 0.0 and pacer.try_acquire() == 0.0
    assert len(polls) == 2 and all(poll is not None and poll <= 0.001 for poll in polls), polls


# -- downloads (a raw loopback server: it can lie about its length and break off) -------------------


# path -> (status line and headers, body) of a server error that is not the vendor's JSON
ERROR_PAGES = {
    "/html": (b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n", b"<html>gateway</html>"),
    "/html-no-reason": (b"HTTP/1.1 502 \r\nContent-Type: text/html\r\n", b"<html>gateway</html>"),
    "/html-500": (
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n",
        b"<html>proxy</html>",
    ),
    "/empty": (b"HTTP/1.1 500 Internal Server Error\r\n", b""),
    "/empty-no-reason": (b"HTTP/1.1 500 \r\n", b""),
    "/text": (b"HTTP/1.1 500 Internal Server Error\r\n", b"  out of disk  \n"),
}


@pytest.fixture
def download_server():
    """``/<n>`` answers n bytes; ``/short`` promises 1000 bytes, sends 10 and closes; ``/gone`` 404;
    ``/busy`` 503."""
    import gzip
    import socketserver
    import threading

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            path = self.rfile.readline().split()[1].decode().split("?")[0]
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            if path == "/gone":
                head, body = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n", b""
            elif path == "/gzip":  # a gzip-encoded answer: Content-Length counts the compressed bytes
                body = gzip.compress(b"flipbook " * 100_000)
                head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n" % len(body)
            elif path == "/busy":
                head, body = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n", b"busy"
            elif path == "/moved":  # a redirect is never followed: a credential would go along
                head, body = b"HTTP/1.1 302 Found\r\nLocation: /1024\r\nContent-Length: 0\r\n", b""
            elif path in ERROR_PAGES:
                head, body = ERROR_PAGES[path]
                head += b"Content-Length: %d\r\n" % len(body)
            elif path == "/short":
                head, body = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n", b"x" * 10
            else:
                body = bytes(range(256)) * (int(path[1:]) // 256)
                head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)
            self.wfile.write(head + b"Connection: close\r\n\r\n" + body)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def download_hook() -> FlipsnackHook:
    extra = {"max_retries": 0, "pacing": False}
    return FlipsnackHook(
        connection=Connection(
            conn_id="fs", conn_type="flipsnack", login="K", password="S", extra=json.dumps(extra)
        )
    )


def test_a_download_streams_every_byte_in_1_mib_chunks(download_server):
    size = (5 << 20) // 2  # 2.5 MiB
    chunks: list[bytes] = []
    assert download_hook().download(f"{download_server}/{size}", chunks.append) == size
    assert [len(chunk) for chunk in chunks] == [1 << 20, 1 << 20, 1 << 19]
    assert b"".join(chunks) == bytes(range(256)) * (size // 256)


def test_a_gzip_encoded_download_is_complete_when_every_encoded_byte_came(download_server):
    """Content-Length counts the bytes on the wire; requests hands over the decoded ones."""
    chunks: list[bytes] = []
    assert download_hook().download(f"{download_server}/gzip", chunks.append) == 900_000
    assert b"".join(chunks) == b"flipbook " * 100_000


def test_a_download_cut_short_is_a_transient_error_naming_the_host_only(download_server):
    with pytest.raises(TransientApiError) as error:
        download_hook().download(f"{download_server}/short?Signature=Secret-Sig-42", lambda chunk: None)
    assert error.value.retryable and (error.value.vendor, error.value.operation) == ("Flipsnack", "download")
    assert f"download from {download_server} broke off (ChunkedEncodingError)" in str(error.value)
    assert "Secret-Sig-42" not in str(error.value) and "/short" not in str(error.value)


def test_a_download_refused_by_a_busy_server_names_its_operation(download_server):
    with pytest.raises(TransientApiError) as error:
        download_hook().download(f"{download_server}/busy", lambda chunk: None, "get_zip")
    assert (error.value.status, error.value.operation) == (503, "get_zip")


@pytest.mark.parametrize(
    "path, described",
    [
        ("/html", "(HTTP 502): Bad Gateway (an HTML page, not an API answer)"),
        ("/html-no-reason", "(HTTP 502): error (an HTML page, not an API answer)"),
        ("/empty", "(HTTP 500): Internal Server Error"),
        ("/empty-no-reason", "(HTTP 500): server error"),
        ("/text", "(HTTP 500): out of disk"),
    ],
)
def test_a_server_error_that_is_not_the_vendors_json_is_described_by_what_came(
    download_server, path, described
):
    with pytest.raises(TransientApiError) as error:
        download_hook().download(f"{download_server}{path}", lambda chunk: None)
    assert str(error.value).endswith(f"Flipsnack download failed {described}")


def test_only_the_vendors_own_500_counts_as_a_repeatable_failure(download_server, sandbox, monkeypatch):
    """A create that got the vendor's own 500 twice fails fast (``create_once``); a gateway's HTML
    page says nothing about the vendor, so it is looked for and sent again."""
    from airflow_provider_flipbook.hooks.exactly_once import repeatable_failure

    with pytest.raises(TransientApiError) as gateway:
        download_hook().download(f"{download_server}/html-500", lambda chunk: None)
    assert repeatable_failure(gateway.value) is None
    conn = sandbox.connections()["papyrs"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAPYRS_ONCE", json.dumps({**conn, "extra": {**conn["extra"], "max_retries": 0}})
    )
    sandbox.fault("papyrs", route="pages/all", status=500)
    with pytest.raises(TransientApiError) as vendor:
        PapyrsHook("papyrs_once").list_pages()
    assert repeatable_failure(vendor.value) == (500, vendor.value.code, vendor.value.message)
    assert repeatable_failure(download_error(download_server, "/busy")) is None  # not a 500


def download_error(server: str, path: str) -> BaseException:
    with pytest.raises(VendorApiError) as error:
        download_hook().download(f"{server}{path}", lambda chunk: None)
    return error.value


def test_a_download_answering_an_error_status_names_it(download_server):
    with pytest.raises(VendorApiError) as error:
        download_hook().download(
            f"{download_server}/gone?Signature=Secret-Sig-42", lambda chunk: None, "get_zip"
        )
    assert (error.value.status, error.value.vendor, error.value.operation) == (404, "Flipsnack", "get_zip")
    assert f"the download URL at {download_server} answered HTTP 404" in str(error.value)
    assert "Secret-Sig-42" not in str(error.value)


def test_the_event_loops_calls_leave_the_key_room_for_other_callers():
    """The loop's calls (account polls) go out one slot apart, never in a burst that fills the window
    and holds another caller on the key (an upload in a worker) for a whole window; and a caller that
    waits for a slot elsewhere takes the freed slot before the loop's queued call does."""
    import asyncio
    import threading
    import time

    booked: list[tuple[str, float]] = []
    burst = BucketPacer([TokenBucket(burst=10, rate=20.0)])  # one slot: 0.05 s

    async def loop_calls(pacer: BucketPacer, count: int) -> None:
        async def one() -> None:
            await pacer.acquire_async()
            booked.append(("loop", time.monotonic()))

        await asyncio.gather(*(one() for _ in range(count)))

    asyncio.run(loop_calls(burst, 6))
    gaps = [b[1] - a[1] for a, b in zip(booked, booked[1:], strict=False)]
    assert min(gaps) >= 0.9 * burst.slot  # the burst of 10 is there, but the loop does not take it

    booked.clear()
    full = BucketPacer([SlidingWindow(1, 2.0)])  # one call per 2 s; the loop yields 0.5 s of a slot
    assert full.try_acquire() == 0.0  # the window is full now

    async def race() -> None:
        def upload_call() -> None:  # it wakes a tenth of a second late, as a busy worker may
            full.acquire(lambda seconds: time.sleep(seconds + 0.1))
            booked.append(("upload", time.monotonic()))

        upload = threading.Thread(target=upload_call)
        loop_call = asyncio.ensure_future(loop_calls(full, 1))
        await asyncio.sleep(0.05)  # the loop's call is queued for the slot first
        upload.start()
        await loop_call
        upload.join()

    asyncio.run(race())
    assert [who for who, _ in booked] == ["upload", "loop"]


# -- the retry rule over the sandbox -----------------------------------------------------------------


@pytest.fixture
def flippingbook_conn(sandbox, monkeypatch):
    """The sandbox's FlippingBook connection with two retries, a 1 s first back-off and no pacing."""
    conn = sandbox.connections()["flippingbook"]
    extra = {**conn["extra"], "retry_min_wait": 1, "retry_max_wait": 10, "max_retries": 2, "pacing": False}
    monkeypatch.setenv("AIRFLOW_CONN_FB_RETRY", json.dumps({**conn, "extra": extra}))
    return "fb_retry"


def test_each_retry_is_logged_with_the_error_its_number_and_its_wait(
    sandbox, flippingbook_conn, caplog, capsys
):
    sandbox.fault("flippingbook", route="GET /api/v1/auth/me", status=503, count=2)
    hook, waits = FlippingBookHook(flippingbook_conn), []
    hook._sleep = waits.append
    assert hook.me()
    logged = caplog.text + capsys.readouterr().out  # Airflow's structlog loggers print
    error = "FlippingBook auth.me failed (HTTP 503): Service Unavailable (an HTML page, not an API answer)"
    assert len(waits) == logged.count("; retry ") == 2
    for number, wait in enumerate(waits, start=1):
        line = re.escape(f"{error}; retry {number} of 2 in {wait:.1f} s")
        assert re.search(rf"(^|\] ){line}( \[|$)", logged, re.MULTILINE), logged  # the whole message
    assert 1 <= waits[0] <= 2 <= waits[1] <= 3  # exponential from retry_min_wait, jitter up to 1 s


def test_a_retry_waits_what_retry_after_says_and_the_back_off_stops_growing_at_its_cap(
    sandbox, flippingbook_conn, monkeypatch
):
    sandbox.fault("flippingbook", route="GET /api/v1/auth/me", status=429, retry_after=3)
    hook, waits = FlippingBookHook(flippingbook_conn), []
    hook._sleep = waits.append
    assert hook.me() and waits == [3.0]  # the vendor's hint, not the 1 s back-off
    conn = json.loads(os.environ["AIRFLOW_CONN_FB_RETRY"])
    conn["extra"].update(max_retries=3, retry_max_wait=1.5)
    monkeypatch.setenv("AIRFLOW_CONN_FB_CAPPED", json.dumps(conn))
    sandbox.fault("flippingbook", route="GET /api/v1/auth/me", status=503, count=3)
    hook, waits = FlippingBookHook("fb_capped"), []
    hook._sleep = waits.append
    assert hook.me()
    assert 1 <= waits[0] <= 1.5 and waits[1:] == [1.5, 1.5]  # 2-3 s and 4-5 s, capped at retry_max_wait


def test_a_redirect_is_not_followed(download_server):
    with pytest.raises(VendorApiError, match="answered HTTP 302"):
        download_hook().download(f"{download_server}/moved", lambda chunk: None)


def test_a_bare_429_waits_one_pacing_interval(sandbox, flippingbook_conn):
    sandbox.fault("flippingbook", route="GET /api/v1/auth/me", status=429)
    hook, waits = FlippingBookHook(flippingbook_conn), []
    hook._sleep = waits.append
    assert hook.me() and waits == [max(limit.interval for limit in hook.limits)]


def test_a_vendor_that_does_not_answer_in_time_is_a_transient_error_naming_host_and_timeout(
    sandbox, flippingbook_conn, monkeypatch
):
    conn = json.loads(os.environ["AIRFLOW_CONN_FB_RETRY"])
    conn["extra"].update(max_retries=0, timeout=0.3)
    monkeypatch.setenv("AIRFLOW_CONN_FB_IMPATIENT", json.dumps(conn))
    sandbox.fault("flippingbook", kind="slow", delay=3, route="GET /api/v1/auth/me")
    hook = FlippingBookHook("fb_impatient")
    with pytest.raises(TransientApiError) as error:
        hook.me()
    host = hook.base_url.split("/api")[0].rstrip("/")
    assert (error.value.vendor, error.value.operation) == ("FlippingBook", "auth.me")
    assert f"no answer from {origin_of(host)} within 0.3 s" in str(error.value)


def test_a_refused_connection_names_the_host_and_the_error_and_was_never_sent():
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again: nothing listens there
    hook = FlippingBookHook(
        connection=Connection(
            conn_id="fb",
            conn_type="flippingbook",
            host=f"http://127.0.0.1:{port}",
            password="x",
            extra=json.dumps({"max_retries": 0, "pacing": False}),
        )
    )
    with pytest.raises(TransientApiError) as error:
        hook.me()
    assert (error.value.vendor, error.value.operation, error.value.unsent) == (
        "FlippingBook",
        "auth.me",
        True,
    )
    assert f"connection to http://127.0.0.1:{port} failed (ConnectionError)" in str(error.value)


def origin_of(url: str) -> str:
    from airflow_provider_flipbook.utils.urls import origin

    return origin(url)


def test_an_empty_answer_where_json_was_expected_says_so_with_its_status(sandbox, flippingbook_conn):
    from airflow_provider_flipbook.exceptions import MalformedResponseError

    sandbox.fault("flippingbook", kind="malformed", body="empty", route="GET /api/v1/auth/me")
    with pytest.raises(MalformedResponseError) as error:
        FlippingBookHook(flippingbook_conn).me()
    assert error.value.status == 200 and "expected JSON, got an empty body" in str(error.value)


def test_a_request_on_the_event_loop_leaves_no_cycle_for_the_collector(sandbox):
    """The triggerer's loop makes thousands of requests (iPaper confirms each ended paper alone).
    Each left a reference cycle (tenacity's per-call state, though a loop call is tried once), which
    only a full collection of the triggerer's heap frees, and a full collection holds the loop."""
    import asyncio
    import socket
    from asyncio.trsock import TransportSocket

    from airflow_provider_flipbook.utils.ratelimit import WaitElsewhere

    hook = FlippingBookHook(on_event_loop=True)

    def one_request() -> None:
        while True:
            try:
                hook.publications_page(0, 10)
                return
            except WaitElsewhere as wait:  # the loop's way to wait for a pacing slot
                time.sleep(wait.seconds)

    one_request()  # session, pacer and imports in place
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        one_request()
        gc.collect()
    finally:
        gc.set_debug(0)
    garbage, gc.garbage[:] = list(gc.garbage), []
    # The first collect freed earlier tests' hooks and closed their connections; the sandbox's server
    # thread then drops its side (an asyncio transport, its socket, their dict and bound method: a
    # cycle of the server's) at any moment, also between the two collects. Not the request's.
    server = {
        id(o) for o in garbage if isinstance(o, (asyncio.BaseTransport, socket.socket, TransportSocket))
    }
    server |= {id(o) for o in garbage if server & {id(r) for r in gc.get_referents(o)}}
    server |= {id(r) for o in garbage if id(o) in server for r in gc.get_referents(o)}
    left = sorted({f"{type(o).__module__}.{type(o).__qualname__}" for o in garbage if id(o) not in server})
    assert left == []


def test_a_finished_hook_is_freed_without_the_collector(sandbox):
    """A trigger's hook goes when its wait ends. Its pacer held it back (the hook's sleep), a cycle
    that left every finished wait's hook, session and connection pool to a full collection of the
    triggerer's heap: it must go by reference counting alone."""
    import weakref

    from airflow_provider_flipbook.utils.ratelimit import WaitElsewhere

    hook = FlippingBookHook(on_event_loop=True)  # as a trigger builds it
    while True:
        try:
            hook.publications_page(0, 10)  # pacer, session and connection pool built
            break
        except WaitElsewhere as wait:
            time.sleep(wait.seconds)
    assert hook.pacer is not None
    gone = weakref.ref(hook)
    gc.disable()
    try:
        del hook
        assert gone() is None
    finally:
        gc.enable()
