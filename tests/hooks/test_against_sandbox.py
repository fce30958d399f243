"""The hooks over real HTTP against the sandbox: connections, retries, Retry-After, paging, coverage."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from airflow.sdk import Connection

from airflow_provider_flipbook.exceptions import (
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    VendorApiError,
)
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

HOOKS = (FlippingBookHook, FlipsnackHook, IPaperHook, PapyrsHook)


def make_conn(conn_id, fields):
    return Connection(conn_id=conn_id, **{**fields, "extra": json.dumps(fields.get("extra") or {})})


def with_extras(hook_cls, sandbox, **extras):
    conn = dict(sandbox.connections()[hook_cls.conn_type])
    conn["extra"] = {**conn.get("extra", {}), **extras}
    return hook_cls(connection=make_conn(f"{hook_cls.conn_type}_custom", conn))


def recording(hook):
    waits = []
    hook._sleep = waits.append
    return waits


@pytest.mark.parametrize("hook_cls", HOOKS)
def test_test_connection_succeeds_with_the_printed_connections(sandbox, hook_cls):
    ok, message = hook_cls().test_connection()
    assert ok, message
    secret = sandbox.connections()[hook_cls.conn_type]["password"]
    assert secret not in message


@pytest.mark.parametrize(
    "hook_cls, expected",
    [
        (FlippingBookHook, "InvalidApiKey"),
        (FlipsnackHook, "code 41"),
        (IPaperHook, "LOGIN_SECURITY_VIOLATION"),
        (PapyrsHook, "HTTP 403"),
    ],
)
def test_test_connection_fails_with_the_vendors_error_and_no_credential(sandbox, hook_cls, expected):
    conn = dict(sandbox.connections()[hook_cls.conn_type])
    conn.update(password="wrong-password-123", login="wrong-login-123" if conn.get("login") else None)
    ok, message = hook_cls(connection=make_conn("bad", conn)).test_connection()
    assert not ok and expected in message
    assert "wrong-password-123" not in message and "wrong-login-123" not in message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_transient_errors_are_retried(sandbox, status):
    hook = with_extras(PapyrsHook, sandbox, retry_min_wait=0.01, retry_max_wait=0.05)
    sandbox.fault("papyrs", status=status, route="pages/all", count=2)
    assert hook.list_pages() == []
    assert [e.status for e in sandbox.requests("papyrs")] == [status, status, 200]


def test_retry_after_is_honoured(sandbox):
    hook = with_extras(FlippingBookHook, sandbox, retry_min_wait=0.01)
    waits = recording(hook)
    sandbox.fault("flippingbook", status=429, retry_after=3)
    sandbox.fault("flippingbook", status=429)
    assert hook.me()["id"] == 123456
    assert waits[0] == 3.0 and waits[1] < 1.0  # the header's value, then our own backoff


def test_retry_after_is_capped(sandbox):
    hook = with_extras(FlippingBookHook, sandbox, max_retry_after=0.5)
    waits = recording(hook)
    sandbox.fault("flippingbook", status=429, retry_after=120)
    hook.me()
    assert waits == [0.5]


def test_persistent_rate_limit_raises_a_typed_error(sandbox):
    hook = with_extras(FlippingBookHook, sandbox, max_retries=2)
    recording(hook)
    sandbox.fault("flippingbook", status=429, retry_after=1, count=3)
    with pytest.raises(RateLimitError) as error:
        hook.me()
    assert (error.value.vendor, error.value.operation, error.value.status, error.value.code) == (
        "FlippingBook",
        "auth.me",
        429,
        "InternalError",
    ) or error.value.status == 429
    assert error.value.retry_after == 1.0


def test_timeouts_and_dropped_connections_are_retried(sandbox):
    hook = with_extras(IPaperHook, sandbox, timeout=0.5)
    recording(hook)
    sandbox.fault("ipaper", kind="slow", delay=2)
    sandbox.fault("ipaper", kind="drop")
    assert list(hook.iter_papers()) == []
    assert sandbox.state()["ipaper"]["papers"] == 0


def test_flipsnack_rate_limit_codes_are_retried():
    from airflow_provider_flipbook.sandbox.server import SandboxServer

    with SandboxServer(speed=2) as server:  # a 0.5 s window: six quick calls always fall inside it
        conn = server.connections()["flipsnack"]
        conn["extra"]["pacing"] = False  # unpaced: the sixth call in the window gets code 31
        hook = FlipsnackHook(connection=make_conn("fs_unpaced", conn))
        waits = []
        hook._sleep = lambda seconds: (waits.append(seconds), time.sleep(seconds))
        for _ in range(6):
            assert hook.user_stats()["api_uploads_left"] == 1000
        statuses = [e.status for e in server.state_store.log]
    assert statuses.count(200) == 7  # code 31 travels as HTTP 200
    assert waits == [pytest.approx(1.02 / 2)]  # one retry, one window later


def test_pacing_keeps_papyrs_inside_its_limit(sandbox):
    hook = PapyrsHook()
    started = time.monotonic()
    for _ in range(8):
        hook.list_pages()
    elapsed = time.monotonic() - started
    window = 60 / sandbox.state_store.speed
    assert all(e.status == 200 for e in sandbox.requests("papyrs"))
    assert elapsed >= window * 0.95  # the 7th call had to wait for the window


def test_malformed_answers_are_clear_errors(sandbox):
    for vendor, call in (
        ("flippingbook", lambda: FlippingBookHook().me()),
        ("ipaper", lambda: IPaperHook().get_all_papers()),
        ("papyrs", lambda: PapyrsHook().list_pages()),
        ("flipsnack", lambda: FlipsnackHook().user_stats()),
    ):
        for body in ("truncated", "html", "empty"):
            sandbox.fault(vendor, kind="malformed", body=body)
            with pytest.raises(
                MalformedResponseError, match="expected JSON|malformed XML|empty body|no <code>"
            ):
                call()
    sandbox.fault("ipaper", kind="malformed", body="nocode")
    with pytest.raises(MalformedResponseError, match="no <code>"):
        IPaperHook().get_all_papers()


def test_flippingbook_paging_iterates_every_publication(sandbox, samples):
    hook = FlippingBookHook()
    for n in range(5):
        hook.create_publication(name=f"Paged {n}")
    created = len(sandbox.requests("flippingbook"))
    names = [p["name"] for p in hook.iter_publications(query="Paged", page_size=2)]
    assert names == [f"Paged {n}" for n in range(5)]
    assert [r.query for r in sandbox.requests("flippingbook")[created:] if r.method == "GET"] == [
        "query=Paged&count=2&offset=0",
        "query=Paged&count=2&offset=2",
        "query=Paged&count=2&offset=4",
    ]


def test_flippingbook_typed_methods(sandbox):
    hook = FlippingBookHook()
    created = hook.create_publication(name="Typed", description="d")
    pid = created["id"]
    hook.update_publication(pid, name="Typed 2")
    assert (
        hook.customize_publication(
            pid, theme="dark", setPasswordProtection="numeric", generatePasswordLength=6
        )["customizationOptions"]["theme"]
        == "dark"
    )
    link = hook.create_tracked_link(
        "Reader", publication_uid=pid, notification_type="Email", on_view_trigger=True
    )
    # links.state: comma-separated flags (WithNewData, WithoutNewData, Active, Deleted, Expired)
    assert hook.get_tracked_link(link["id"])["state"].split(", ") == ["Active", "WithoutNewData"]
    assert hook.disable_tracked_link(link["id"])["state"].split(", ") == ["WithoutNewData"]
    assert hook.get_tracked_link(link["id"])["state"].split(", ") == ["WithoutNewData"]
    assert hook.enable_tracked_link(link["id"])["state"].split(", ") == ["WithoutNewData", "Active"]
    assert [x["id"] for x in hook.iter_tracked_links(publication_uid=pid)] == [link["id"]]
    hook.delete_tracked_link(link["id"])
    with pytest.raises(NotFoundError):
        hook.get_tracked_link(link["id"])
    trigger = hook.create_trigger("https://hooks.example/x", ["created"], ["publication"])
    assert hook.update_trigger(trigger, "https://hooks.example/y", ["updated"], ["publication"]) == trigger
    hook.delete_trigger(trigger)
    assert [f["name"] for f in hook.list_folders()] == ["Catalogues", "Reports"]
    assert hook.list_custom_domains()["customDomainsEnabled"] is False
    new_key = hook.create_api_key()
    assert new_key in hook.list_api_keys()
    hook.delete_publication(pid)
    with pytest.raises(NotFoundError) as gone:
        hook.get_publication(pid)
    assert gone.value.code == "ObjectNotFound" and gone.value.status == 404


def test_flippingbook_key_limit(sandbox):
    hook = FlippingBookHook()
    for _ in range(9):
        hook.create_api_key()
    with pytest.raises(VendorApiError, match="KeyLimitExceeded"):
        hook.create_api_key()


@pytest.mark.parametrize(
    "items_key", ["items", "flipbooks"]
)  # getCollection's page is cut off before the key
def test_flipsnack_collections(sandbox, samples, items_key):
    flipsnack = sandbox.state_store.vendors["flipsnack"]
    flipsnack.options["items_key"] = items_key
    # The conversion ends when the test says so, not after a few wall-clock milliseconds of a loaded machine.
    flipsnack.options["conversion_seconds"] = 10**9
    hook = FlipsnackHook()
    created = hook.create_collection(
        open_file=lambda: samples["three"].open("rb"), filename="three.pdf", title="Coll"
    )
    collection = created["collectionHash"]
    assert created[items_key][0]["status"] == "processing"
    assert hook.conversion_status(collection)["state"] == "running"
    # Unavailable while processing (code 38): the hook waits for the conversion instead of failing.
    refused = flipsnack.state.answered[38]
    with ThreadPoolExecutor(1) as pool:
        update = pool.submit(hook.update_collection, collection, title="x")
        while flipsnack.state.answered[38] == refused and not update.done():
            time.sleep(0.01)  # until the vendor has refused the update once
        assert flipsnack.state.answered[38] > refused, update.result()
        for item in flipsnack.state.collections[collection]["items"]:  # the conversion ends (sandbox clock):
            item["created"] = flipsnack.state.shared.now() - 10**9  # the waiting update goes through
        assert update.result()["collectionTitle"] == "x"
    assert hook.conversion_status(collection)["state"] == "success"
    published = hook.update_collection(collection, collectionStatus="public")
    assert published["collectionHash"] != collection  # the hash becomes final on publishing
    with pytest.raises(VendorApiError) as retired:
        hook.get_collection(collection)
    assert retired.value.code == 46
    final = published["collectionHash"]
    assert "<iframe" in hook.get_embed(final)
    assert hook.get_collection_stats(final, include_page_stats=True)["pages"][0]["page"] == 1
    assert [c["collectionHash"] for c in hook.iter_collections(page_size=1)] == [final]
    hook.delete_collection(final)
    assert sandbox.state()["flipsnack"]["collections"] == 0


def test_flipsnack_code_38_waits_only_up_to_processing_timeout(sandbox, samples, monkeypatch):
    from airflow_provider_flipbook.hooks.flipsnack import CollectionProcessingError

    monkeypatch.setitem(
        sandbox.state_store.vendors["flipsnack"].options, "conversion_seconds", 3000
    )  # 60 s here
    hook = FlipsnackHook()
    hook.__dict__["extras"] = {**hook.extras, "processing_timeout": 25, "processing_poll_interval": 5}
    collection = hook.create_collection(open_file=lambda: samples["three"].open("rb"), title="Busy")[
        "collectionHash"
    ]
    started = time.monotonic()
    with pytest.raises(CollectionProcessingError) as busy:
        hook.get_embed(collection)
    assert busy.value.code == 38 and time.monotonic() - started < 2
    assert hook.package_status(collection) == {
        "state": "running",
        "detail": "collection processing",
        "resource_url": None,
    }


@pytest.fixture
def canned():
    """A loopback vendor that answers every GET or POST with one JSON body: shapes the documents do not show."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answer = {"body": b"{}"}

    class Handler(BaseHTTPRequestHandler):
        def reply(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        do_GET = do_POST = reply  # noqa: N815

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def hook(hook_cls, sandbox, body, **extras):
        answer["body"] = json.dumps(body).encode()
        conn = dict(sandbox.connections()[hook_cls.conn_type])
        conn["host"] = f"http://127.0.0.1:{server.server_port}"
        conn["extra"] = {**conn.get("extra", {}), "max_retries": 0, **extras}
        return hook_cls(connection=make_conn(f"{hook_cls.conn_type}_canned", conn))

    yield hook
    server.shutdown()


@pytest.mark.parametrize(
    ("data", "operation"),
    [
        ({"collectionHash": "abc", "pages": []}, "collection.getCollection"),
        ({"collectionHash": "abc", "items": [{"status": "queued"}]}, "collection.getCollection"),
        ({"collectionHash": "abc", "items": "complete"}, "collection.getCollection"),
        ({"state": "done"}, "collection.downloadHTML"),
        ({"status": "COMPLETE"}, "collection.downloadHTML"),
    ],
)
def test_flipsnack_unknown_answer_shapes_fail_at_once(sandbox, canned, data, operation):
    """A shape the documents do not show is an error naming the operation and the keys seen, never "running"."""
    hook = canned(FlipsnackHook, sandbox, {"code": 20, "status": "OK", "data": data})
    status = hook.conversion_status if operation == "collection.getCollection" else hook.package_status
    with pytest.raises(VendorApiError, match=operation) as error:
        status("abc")
    assert "keys seen" in str(error.value) and sorted(data)[0] in str(error.value)


def test_ipaper_typed_methods(sandbox, samples):
    hook = IPaperHook()
    category = hook.create_category(hook.root_paper_id, "Catalogues", "catalogues")
    paper = hook.create_paper(category, "Spring", "spring")
    assert hook.get_paper_url(paper) == "/catalogues/spring/"
    assert hook.get_paper_id_from_url("/catalogues/spring/") == paper
    assert hook.get_paper_id_from_url("/nowhere/") is None
    hook.set_publication_period(paper, "2026-01-01 00:00:00", "2026-12-31 23:59:00")
    assert [p for p in hook.iter_papers() if p["id"] == str(paper)][0]["publicationperiod-from"].startswith(
        "2026"
    )
    hook.set_setting(paper, "iconPdf", False)
    assert hook.get_setting(paper, "iconPdf") == "false"
    hook.add_custom_field("Season", "string")
    hook.set_custom_field_values(paper, {"Season": "Spring"})
    assert hook.get_custom_field_value(paper, "Season") == "Spring"
    assert hook.search_by_custom_fields(None, {"Season": "Spr%"})[0]["customfields"] == {"Season": "Spring"}
    assert hook.search_by_name("spring")[0]["paperID"] == str(paper)
    directory = hook.create_media_directory(0, "Data")
    first = hook.upload_media_file(directory, "stock.csv", lambda: open(samples["small"], "rb"))
    assert (
        hook.upload_media_file(directory, "stock.csv", lambda: open(samples["three"], "rb")) == first
    )  # upsert
    assert len(hook.get_pageviews_per_day(paper, "2026-01-01", "2026-01-07")) == 7
    assert hook.get_visitors(paper, "2026-01-01", "2026-01-07") >= 0
    with pytest.raises(VendorApiError, match="CUSTOMFIELD_FIELD_NAME_IS_NOT_UNIQUE"):
        hook.add_custom_field("Season", "string")
    with pytest.raises(NotFoundError):
        hook.get_paper_url(999999)


def test_papyrs_typed_methods(sandbox, samples):
    hook = with_extras(PapyrsHook, sandbox, pacing=False)
    page = hook.create_page("Intranet", category="Reports/2026")
    heading = hook.create_widget(page["id"], "heading", "Hello", heading="h2", styleclass="line")
    assert (heading["heading"], heading["styleclass"]) == (
        "h2",
        "line",
    )  # the sandbox reads them from the URL
    sent = [e for e in sandbox.requests("papyrs") if "heading/create" in e.path][-1]
    assert {"heading=h2", "styleclass=line", "format=html"} <= set(sent.query.split("&"))
    updated = hook.update_widget(page["id"], "heading", heading["id"], "Hello again")
    assert updated["version_of_id"] == heading["id"] and updated["id"] != heading["id"]
    assert "styleclass" not in updated  # the vendor resets it unless it is sent again
    attachment = hook.create_attachment(page["id"], "small.pdf", lambda: samples["small"].open("rb"))
    assert attachment["files"][0]["size"] == samples["small"].stat().st_size
    assert hook.get_widget(page["id"], "paragraph", updated["id"])["text"] == "Hello again"
    assert {f["path"] for f in hook.folder_tree()} == {"Reports", "Reports/2026"}
    copy = hook.copy_page(page["id"], title="Intranet copy", tags="a,b")
    assert copy["tags"] == ["a", "b"]
    assert hook.search("intranet")[0]["cat"] == "Page"
    assert len(hook.list_people(site_wide=True)) == 3
    invited = hook.invite_person("dana@example.com", name="Dana")
    assert invited["success"] is True
    hook.set_permission(invited["id"], "editor")
    subsite = hook.create_subsite("Marketing")
    assert {s["title"] for s in hook.list_subsites()} == {"Home", "Marketing"}
    assert subsite["title"] == "Marketing"
    hook.delete_page(copy["id"])
    with pytest.raises(NotFoundError):
        hook.get_page(copy["id"])
    with pytest.raises(ValueError, match="empty"):
        hook.create_markdown(page["id"], "  ")


@pytest.mark.parametrize("failure_status", [400, 200])  # the document gives the body, not the HTTP status
def test_papyrs_success_false_is_an_error_with_the_vendors_message(sandbox, failure_status):
    sandbox.state_store.vendors["papyrs"].options["failure_status"] = failure_status
    hook = with_extras(PapyrsHook, sandbox, pacing=False)
    hook.invite_person("erin@example.com")
    with pytest.raises(VendorApiError, match="A user with that email address exists") as error:
        hook.invite_person("erin@example.com")
    assert error.value.operation == "people.invite" and error.value.status == failure_status


def test_papyrs_folder_copy_follows_more(sandbox):
    hook = with_extras(PapyrsHook, sandbox, pacing=False)
    for n in range(7):
        hook.create_page(f"P{n}", category="Src")
    result = hook.copy_folder(source={"copy_path": "Src"}, target={"target_path": "Dst"})
    assert result["more"] is False
    assert sum(1 for p in hook.list_pages() if p["category"] == "Dst/Src") == 7


def test_exceptions_survive_pickling():
    import pickle

    error = RateLimitError("Papyrs", "pages.all", "slow down", status=429, code=429, retry_after=5)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.retry_after, copy.status) == (str(error), 5, 429)
    json.dumps({"message": str(copy)})


def test_flipsnack_an_empty_item_list_is_not_finished(sandbox, canned):
    hook = canned(
        FlipsnackHook, sandbox, {"code": 20, "status": "OK", "data": {"collectionHash": "a", "flipbooks": []}}
    )
    assert hook.conversion_status("a")["state"] == "running"


@pytest.mark.parametrize("answer", [{"widgets": [{"id": "1"}]}, {"ok": True}, []])
def test_papyrs_unknown_markdown_answer_fails_at_once(sandbox, canned, answer):
    hook = canned(PapyrsHook, sandbox, answer)
    with pytest.raises(VendorApiError, match="markdown.create.*expected a widget"):
        hook.create_markdown("1", "# Title", page={"id": "1", "json": [[]]})


@pytest.mark.parametrize(
    "progress_key", ["Progress", "progress"]
)  # the page writes Progress, its peers camelCase
def test_flippingbook_source_progress_in_either_casing(sandbox, samples, progress_key):
    import base64

    sandbox.state_store.vendors["flippingbook"].options["progress_key"] = progress_key
    hook = FlippingBookHook()
    created = hook.create_publication(name="P", data=base64.b64encode(samples["long"].read_bytes()).decode())
    seen = []
    for _ in range(400):
        status = hook.conversion_status(created["id"], created["createdSource"]["id"], summary=False)
        seen.append(status["detail"])
        if status["state"] != "running":
            break
        time.sleep(0.01)
    assert status["state"] == "success"
    assert any(d.startswith("Completed L1 ") and d.split()[-1].isdigit() for d in seen), (
        seen
    )  # progress was read


@pytest.mark.parametrize(
    ("answer", "call", "expected"),
    [
        (
            {"success": True, "source": {"id": "s", "state": "Converting"}},
            "status",
            "unrecognised source state 'Converting'",
        ),
        (
            {"success": True, "item": {"id": "s"}},
            "status",
            r"expected 'source' \(dict\), keys seen: \['item', 'success'\]",
        ),
        ({"success": True, "publication": {"id": "p"}}, "summary", "the publication has no 'state'"),
        ({"success": True, "publicationId": "p"}, "create", r"expected 'id' \(str\), keys seen"),
        ({"success": True, "id": "p"}, "create", "the answer has no 'createdSource'"),
        (
            {"success": True, "id": "p", "createdSource": {"success": True}},
            "create",
            "'createdSource' has no 'id'",
        ),
    ],
)
def test_flippingbook_unknown_answer_shapes_fail_at_once(sandbox, canned, answer, call, expected):
    hook = canned(FlippingBookHook, sandbox, answer)
    run = {
        "status": lambda: hook.conversion_status("p", "s"),
        "summary": lambda: hook.conversion_status("p"),
        "create": lambda: hook.create_publication(name="x", data="JVBERi0="),
    }[call]
    with pytest.raises(VendorApiError, match=expected):
        run()


def test_a_vendor_ignoring_paging_parameters_never_loops_forever(sandbox, canned, caplog):
    """Flipsnack's from/to and Papyrs' page, ignored by the vendor: the repeated page ends the listing, loudly."""
    collections = [{"collectionHash": f"h{n}", "collectionTitle": f"T{n}"} for n in range(2)]
    hook = canned(
        FlipsnackHook,
        sandbox,
        {"code": 20, "status": "OK", "data": {"collections": collections, "collectionCount": 9}},
    )
    with caplog.at_level("WARNING"):
        assert [c["collectionHash"] for c in hook.iter_collections(page_size=2)] == ["h0", "h1"]
    assert "repeats the previous one" in caplog.text

    records = [{"field": "name", "value": "Ann"}, {"field": "name", "value": "Bo"}]
    assert list(canned(PapyrsHook, sandbox, records).iter_records("1", items_per_page=2)) == records


def test_a_folder_copy_that_never_moves_on_fails_instead_of_looping(sandbox, canned):
    hook = canned(PapyrsHook, sandbox, {"success": True, "more": {"cursor": 1}})
    with pytest.raises(VendorApiError, match="folder.copy.*'more' did not change"):
        hook.copy_folder(source={"copy_path": "/a"}, target={"path": "/b"})
