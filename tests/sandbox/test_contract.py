"""Raw-HTTP contract tests of the sandbox: it must behave as the vendors document, not as our hooks expect."""

import base64
import hashlib
import io
import time
import zipfile

import pytest
import requests

from airflow_provider_flipbook.sandbox.core.state import Credentials
from airflow_provider_flipbook.sandbox.emulators import EMULATORS
from airflow_provider_flipbook.sandbox.server import SandboxServer


def fb(sandbox, method, path, key=None, **kwargs):  # sandbox: the fixture's handle or a SandboxServer
    key = key or sandbox.state_store.credentials.flippingbook_key
    return requests.request(
        method,
        f"{sandbox.url}/flippingbook/api/v1{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        **kwargs,
    )


def sign(secret, params):
    """developers.flipsnack.com/how-to-sign-a-request, step by step: the test's own copy, not the hook's."""
    pairs = "".join(f"{name}{params[name]}" for name in sorted(params) if name not in ("signature", "file"))
    return hashlib.md5((secret + pairs).encode()).hexdigest()


def fs_get(sandbox, action, **params):  # sandbox: the fixture's handle or a SandboxServer
    creds = sandbox.state_store.credentials
    query = {"apiKey": creds.flipsnack_key, "action": action, **params}
    query["signature"] = sign(creds.flipsnack_secret, query)
    return requests.get(f"{sandbox.url}/flipsnack/v1/", params=query, timeout=10).json()


def ip(sandbox, method, **form):
    creds = sandbox.state_store.credentials
    service, _, name = method.partition(".")
    return requests.post(
        f"{sandbox.url}/ipaper/V2/{service}.asmx/{name}",
        data={"plUsername": "APIKey", "plPassword": creds.ipaper_api_key, **form},
        timeout=30,
    )


def py(sandbox, method, path, token=None, **kwargs):
    token = token or sandbox.state_store.credentials.papyrs_token
    return requests.request(
        method,
        f"{sandbox.url}/papyrs/@home/api/v1/{path}",
        headers={"X-Auth-Token": token},
        timeout=10,
        **kwargs,
    )


# -- authentication and error envelopes ----------------------------------------------------------------


def test_flippingbook_auth_errors(sandbox):
    url = f"{sandbox.url}/flippingbook/api/v1/auth/me"
    none = requests.get(url, timeout=5)
    basic = requests.get(url, headers={"Authorization": "Basic abc"}, timeout=5)
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert (none.status_code, none.json()["error"]["wellKnownError"]) == (401, "NoAuthorizationHeader")
    assert (basic.status_code, basic.json()["error"]["wellKnownError"]) == (401, "BadAuthorizationType")
    assert (wrong.status_code, wrong.json()) == (
        403,
        {"success": False, "error": {"wellKnownError": "InvalidApiKey", "message": "Invalid API key"}},
    )
    unknown = fb(sandbox, "GET", "/fbonline/nothing-here")
    assert (unknown.status_code, unknown.json()["error"]["wellKnownError"]) == (404, "NotFound")
    missing = fb(sandbox, "GET", "/fbonline/publication/" + "0" * 32)
    assert (missing.status_code, missing.json()["error"]["wellKnownError"]) == (404, "ObjectNotFound")


def test_flippingbook_rejects_requests_over_one_megabyte(sandbox):
    response = fb(sandbox, "POST", "/fbonline/publication", json={"name": "x", "data": "A" * 1_100_000})
    assert response.status_code == 413
    assert sandbox.state()["flippingbook"]["publications"] == 0


def test_flipsnack_envelope_codes(sandbox):
    creds = sandbox.state_store.credentials
    base = f"{sandbox.url}/flipsnack/v1/"
    assert requests.get(base, params={"action": "user.getStats"}, timeout=5).json() == {
        "code": 30,
        "status": "Missing mandatory parameter",
    }
    bad_key = {"apiKey": "nope", "action": "user.getStats"}
    bad_key["signature"] = sign(creds.flipsnack_secret, bad_key)
    assert requests.get(base, params=bad_key, timeout=5).json()["code"] == 41
    bad_sig = {"apiKey": creds.flipsnack_key, "action": "user.getStats", "signature": "0" * 32}
    assert requests.get(base, params=bad_sig, timeout=5).json()["code"] == 44
    assert fs_get(sandbox, "collection.nope")["code"] == 42
    assert fs_get(sandbox, "collection.create")["code"] == 40  # an upload action over GET
    assert fs_get(sandbox, "collection.getCollection", collectionHash="missing")["code"] == 43
    stats = fs_get(sandbox, "user.getStats")
    assert stats["code"] == 20 and stats["data"]["api_uploads_left"] == 1000


def test_flipsnack_signatures_match_the_vendors_worked_example():
    """The page's example: secret 123ABCDE-456-7890-FGH, key 45FD-267-7SG7832, getCollection of fxh4k89."""
    from airflow_provider_flipbook.sandbox.flipsnack.answers import signature

    params = {"action": "collection.getCollection", "collectionHash": "fxh4k89", "apiKey": "45FD-267-7SG7832"}
    assert (
        "123ABCDE-456-7890-FGH" + "".join(f"{k}{params[k]}" for k in sorted(params))
        == "123ABCDE-456-7890-FGHactioncollection.getCollectionapiKey45FD-267-7SG7832collectionHashfxh4k89"
    )
    assert signature("123ABCDE-456-7890-FGH", params) == "26e781d3d1751d82ec284acf4a019def"
    assert sign("123ABCDE-456-7890-FGH", params) == "26e781d3d1751d82ec284acf4a019def"


def test_flipsnack_code_38_while_the_collection_processes(sandbox, samples):
    """api-status-codes: 38 "Collection is in processing state" for update, getEmbed and downloadHTML."""
    sandbox.state_store.vendors["flipsnack"].options["conversion_seconds"] = 3000  # a minute at speed 50
    creds = sandbox.state_store.credentials
    fields = {"apiKey": creds.flipsnack_key, "action": "collection.create", "title": "Busy"}
    fields["signature"] = sign(creds.flipsnack_secret, fields)
    with samples["three"].open("rb") as pdf:
        created = requests.post(
            f"{sandbox.url}/flipsnack-upload/v1/",
            data=fields,
            files={"file": ("three.pdf", pdf, "application/pdf")},
            timeout=10,
        ).json()
    collection = created["data"]["collectionHash"]
    assert created["data"]["items"][0]["status"] == "processing"
    for action, extra in (
        ("collection.update", {"title": "x"}),
        ("collection.getEmbed", {}),
        ("collection.downloadHTML", {}),
    ):
        assert fs_get(sandbox, action, collectionHash=collection, **extra) == {
            "code": 38,
            "status": "Collection is in processing state",
        }
    assert fs_get(sandbox, "collection.getCollection", collectionHash=collection)["code"] == 20


def test_flipsnack_accepts_the_vendors_worked_example_signature():
    creds = Credentials.generate(EMULATORS)
    creds.flipsnack_key, creds.flipsnack_secret = "45FD-267-7SG7832", "123ABCDE-456-7890-FGH"
    with SandboxServer(speed=50, credentials=creds) as server:
        answer = requests.get(
            f"{server.url}/flipsnack/v1/",
            params={
                "action": "collection.getCollection",
                "collectionHash": "fxh4k89",
                "apiKey": "45FD-267-7SG7832",
                "signature": "26e781d3d1751d82ec284acf4a019def",
            },
            timeout=5,
        ).json()
    assert answer["code"] == 43  # signature accepted; the collection just is not ours


def test_ipaper_auth_and_asmx_errors(sandbox):
    denied = requests.post(
        f"{sandbox.url}/ipaper/V2/Paper.asmx/GetAllPapers",
        data={"plUsername": "APIKey", "plPassword": "wrong", "paperID": "0"},
        timeout=5,
    )
    assert denied.status_code == 200 and "LOGIN_SECURITY_VIOLATION" in denied.text
    user = requests.post(
        f"{sandbox.url}/ipaper/V2/Paper.asmx/GetAllPapers",
        timeout=5,
        data={
            "username": sandbox.state_store.credentials.ipaper_user,
            "password": sandbox.state_store.credentials.ipaper_password,
            "paperID": "182",
        },
    )
    assert "SUCCESS" in user.text
    missing = ip(sandbox, "Paper.GetAllPapers")
    assert (missing.status_code, missing.text) == (500, "Missing parameter: paperID.")
    assert ip(sandbox, "Paper.NoSuchMethod").status_code == 500
    assert ip(sandbox, "Nothing.GetAllPapers").status_code == 404
    assert requests.post(f"{sandbox.url}/ipaper/", timeout=5).status_code == 404
    not_found = ip(sandbox, "Paper.GetPaperUrlFromID", paperID="424242")
    assert "PAPER_DOES_NOT_EXIST" in not_found.text


def test_papyrs_auth_and_error_body(sandbox):
    assert py(sandbox, "GET", "pages/all/", token="nope").json() == {
        "error": "Invalid or missing API token",
        "status": 403,
    }
    legacy = requests.get(
        f"{sandbox.url}/papyrs/api/v1/pages/all/",
        params={"auth_token": sandbox.state_store.credentials.papyrs_token},
        timeout=5,
    )
    assert legacy.status_code == 200 and legacy.json() == []
    assert py(sandbox, "GET", "pages/get/999999/").status_code == 404
    assert py(sandbox, "GET", "pages/create/").status_code == 405
    invite_on_subsite = py(sandbox, "POST", "people/invite/", json={"email_address": "a@b.c"})
    assert invite_on_subsite.status_code == 400


def py_paced(sandbox, method, path, **kwargs):
    """One Papyrs call inside the documented 6 requests / 60 s (scaled by the sandbox's speed)."""
    time.sleep(60 / 6 / sandbox.state_store.speed + 0.01)
    return py(sandbox, method, path, **kwargs)


def test_papyrs_widget_options_are_read_from_the_url_only(sandbox):
    """The document: "The following additional parameters can be added to the request URL"."""
    page = py_paced(sandbox, "POST", "pages/create/", json={"title": "Opts", "json": [[]]}).json()["id"]
    from_url = py_paced(
        sandbox,
        "POST",
        f"page/{page}/heading/create/?heading=h2&styleclass=bars&format=text",
        json={"widget": {"val": "<b>Hi</b>"}},
    ).json()
    assert (from_url["heading"], from_url["styleclass"], from_url["html"]) == (
        "h2",
        "bars",
        "&lt;b&gt;Hi&lt;/b&gt;",
    )
    from_body = py_paced(
        sandbox,
        "POST",
        f"page/{page}/heading/create/",
        json={"widget": {"val": "<b>Hi</b>", "heading": "h2", "styleclass": "bars", "format": "text"}},
    )
    assert from_body.status_code == 400 and from_body.json() == {
        "error": "format, heading, styleclass must be given as URL parameters, not in the body",
        "status": 400,
    }
    bad = py_paced(
        sandbox, "POST", f"page/{page}/paragraph/create/?styleclass=bars", json={"widget": {"val": "x"}}
    )
    assert bad.status_code == 400 and bad.json() == {
        "error": "Invalid value for styleclass: 'bars'",
        "status": 400,
    }


def test_papyrs_markdown_takes_only_the_documented_body(sandbox):
    page = py_paced(sandbox, "POST", "pages/create/", json={"title": "Md", "json": [[]]}).json()["id"]
    other = py_paced(sandbox, "POST", f"page/{page}/markdown/create/", json={"markdown": "# Title"})
    assert (
        other.status_code == 400 and other.json()["status"] == 400 and "widget.val" in other.json()["error"]
    )
    made = py_paced(
        sandbox, "POST", f"page/{page}/markdown/create/", json={"widget": {"val": "# Title\n\nText"}}
    )
    assert [w["classname"] for w in made.json()] == ["Heading", "Paragraph"]


@pytest.mark.parametrize("failure_status", [400, 200])  # the document gives the body, not the HTTP status
def test_papyrs_people_failures_say_success_false(sandbox, failure_status):
    sandbox.state_store.vendors["papyrs"].options["failure_status"] = failure_status
    site = f"{sandbox.url}/papyrs/api/v1/people/invite/"
    headers = {"X-Auth-Token": sandbox.state_store.credentials.papyrs_token}
    answer = requests.post(site, json={"email_address": "not-an-address"}, headers=headers, timeout=5)
    assert answer.status_code == failure_status
    assert answer.json() == {"success": False, "error": "email_address is required"}


def test_flippingbook_tracked_links_as_documented(sandbox, samples):
    """urlName and no full URL; onNotOpenedUntil is an ISO 8601 date/time ("boolean" in the type column)."""
    data = base64.b64encode(samples["small"].read_bytes()).decode()
    pub = fb(sandbox, "POST", "/fbonline/publication", json={"name": "Links", "data": data}).json()
    made = fb(
        sandbox,
        "POST",
        "/fbonline/tracked_links",
        json={"title": "Ann", "publicationUid": pub["id"], "onNotOpenedUntil": "2026-06-20T07:00:00Z"},
    ).json()
    link = made["links"][0]
    assert "url" not in link and link["urlName"] and link["publication"]["url"] == pub["url"]
    assert link["triggers"]["onNotOpenedUntil"] == {"enabled": True, "until": "2026-06-20T07:00:00Z"}
    refused = fb(
        sandbox,
        "POST",
        "/fbonline/tracked_links",
        json={"title": "Bob", "publicationUid": pub["id"], "onNotOpenedUntil": True},
    )
    assert refused.status_code == 400 and refused.json()["error"]["wellKnownError"] == "InvalidData"


@pytest.mark.parametrize("when", ["later", "report"])
def test_flippingbook_refuses_xfa_sources(sandbox, samples, when):
    """The Source entity: no XFA (forms). ``created_source_errors`` picks when the refusal is told."""
    sandbox.state_store.vendors["flippingbook"].options["created_source_errors"] = when
    data = base64.b64encode(samples["xfa"].read_bytes()).decode()
    answer = fb(sandbox, "POST", "/fbonline/publication", json={"name": "Form", "data": data}).json()
    assert answer["success"] is True
    if when == "report":
        assert answer["createdSource"] == {
            "success": False,
            "wellKnownError": "InvalidData",
            "message": "Invalid source: PDFs with XFA forms are not supported",
            "error": "InvalidSource",
        }
        assert fb(sandbox, "GET", f"/fbonline/publication/{answer['id']}").status_code == 404
    else:
        source = answer["createdSource"]["id"]
        states = []
        for _ in range(100):
            got = fb(sandbox, "GET", f"/fbonline/publication/{answer['id']}/source/{source}")
            states.append(got.json()["source"]["state"] if got.status_code == 200 else got.status_code)
            if states[-1] in ("CompletedWithErrors", 404):
                break
            time.sleep(0.02)
        assert states[-1] in ("CompletedWithErrors", 404)


# -- rate limits --------------------------------------------------------------------------------------


def test_flippingbook_burst_of_ten_then_429_in_reject_mode():
    with SandboxServer(speed=1, rate_limit_mode="reject") as server:  # real rate: no refill during the burst
        codes = [fb(server, "GET", "/auth/me").status_code for _ in range(12)]
        assert codes[:10] == [200] * 10 and 429 in codes[10:]
        assert fb(server, "GET", "/auth/me").json()["error"]["wellKnownError"] == "RateLimitExceeded"


def test_flippingbook_delays_excess_requests_by_default():
    with SandboxServer(speed=20) as server:
        started = time.monotonic()
        codes = [fb(server, "GET", "/auth/me").status_code for _ in range(14)]
        elapsed = time.monotonic() - started
    assert codes == [200] * 14
    assert elapsed >= 3 / 20  # requests 12-14 waited for their token (1/s, scaled)


def test_flipsnack_per_second_limit_is_code_31():
    with SandboxServer(speed=1) as server:  # a real 1 s window: seven calls always fall inside it
        codes = [fs_get(server, "user.getStats")["code"] for _ in range(7)]
    assert codes[:5] == [20] * 5 and 31 in codes[5:]


def test_papyrs_six_per_window_then_429_with_retry_after(sandbox):
    answers = [py(sandbox, "GET", "pages/all/") for _ in range(7)]
    assert [a.status_code for a in answers[:6]] == [200] * 6
    assert answers[6].status_code == 429 and int(answers[6].headers["Retry-After"]) >= 1
    assert answers[6].json()["status"] == 429


# -- asynchronous work ----------------------------------------------------------------------------------


def poll(fetch, done, timeout=20.0):
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fetch()
        if not seen or seen[-1] != value:
            seen.append(value)
        if done(value):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"never finished: {seen}")


def test_flippingbook_conversion_lifecycle(samples, tmp_path):
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    make_sample_pdf(tmp_path / "ten.pdf", 10, "Ten pages")
    data = base64.b64encode((tmp_path / "ten.pdf").read_bytes()).decode()
    with SandboxServer(speed=2) as server:  # slow enough to see every stage
        created = fb(
            server, "POST", "/fbonline/publication", json={"name": "Life", "data": data, "filename": "t.pdf"}
        )
        pid, sid = created.json()["id"], created.json()["createdSource"]["id"]

        def state():
            source = fb(server, "GET", f"/fbonline/publication/{pid}/source/{sid}").json()["source"]
            time.sleep(0.25)
            assert {"id", "publicationId", "links", "state", "stage", "Progress"} <= set(
                source
            )  # the page's fields
            return source["state"], source["stage"]

        seen = poll(state, lambda s: s[0] == "CompletedAllStages")
        publication = fb(server, "GET", f"/fbonline/publication/{pid}").json()["publication"]
    assert [s for s, _ in seen][:2] == ["WaitAutoQueue", "Queued"]
    assert ("Completed", "Preview") in seen and ("Completed", "L1") in seen
    assert publication["totalPages"] == 10 and "CompletedAllStages" in publication["state"]


def test_flippingbook_failed_first_source_deletes_the_publication(sandbox, samples):
    data = base64.b64encode(samples["encrypted"].read_bytes()).decode()
    pid = fb(sandbox, "POST", "/fbonline/publication", json={"name": "Bad", "data": data}).json()["id"]

    def answer():
        time.sleep(0.03)
        return fb(sandbox, "GET", f"/fbonline/publication/{pid}").status_code

    assert poll(answer, lambda code: code == 404)[-1] == 404


def test_flippingbook_fetches_url_sources_from_loopback(sandbox, samples, pdf_server):
    url = pdf_server(samples["three"].read_bytes())
    created = fb(sandbox, "POST", "/fbonline/publication", json={"name": "By URL", "url": url}).json()
    assert created["createdSource"]["success"] is True


def test_ipaper_refuses_a_second_job_on_the_same_paper(sandbox, samples):
    paper = ip(sandbox, "Paper.CreatePaper", parentID="182", name="Job", urlName="job").text
    paper_id = paper.split('paper id="')[1].split('"')[0]
    pdf = base64.b64encode(samples["small"].read_bytes()).decode()
    first = ip(sandbox, "Ripper.ProcessPDF", paperID=paper_id, xmlOptions="<options/>", base64Pdf=pdf)
    second = ip(sandbox, "Ripper.ProcessPDF", paperID=paper_id, xmlOptions="<options/>", base64Pdf=pdf)
    assert "SUCCESS" in first.text and "<data>" not in first.text  # the documented answer: no job GUID
    assert "RIPPER_CANNOT_PROCESS_PAPER_ALREADY_BEING_PROCESSED" in second.text
    invalid = ip(sandbox, "Ripper.ProcessPDF", paperID=paper_id, xmlOptions="", base64Pdf="!!notbase64!!")
    assert "RIPPER_INVALID_BASE64_PDF_FILE" in invalid.text or "ALREADY_BEING_PROCESSED" in invalid.text


def test_flipsnack_package_is_a_real_zip_and_its_url_expires(sandbox, samples):
    creds = sandbox.state_store.credentials
    fields = {"apiKey": creds.flipsnack_key, "action": "collection.create", "title": "Pkg"}
    fields["signature"] = sign(creds.flipsnack_secret, fields)
    created = requests.post(
        f"{sandbox.url}/flipsnack-upload/v1/",
        data=fields,
        timeout=10,
        files={"file": ("pkg.pdf", samples["three"].read_bytes(), "application/pdf")},
    ).json()
    collection = created["data"]["collectionHash"]
    assert (
        fs_get(sandbox, "collection.downloadHTML", collectionHash=collection)["code"] == 38
    )  # still processing

    def package():
        time.sleep(0.25)  # 5/s per key
        answer = fs_get(sandbox, "collection.downloadHTML", collectionHash=collection)
        return answer.get("data", {}).get("status") if answer["code"] == 20 else f"code {answer['code']}"

    assert poll(package, lambda s: s == "COMPLETE")[-1] == "COMPLETE"
    time.sleep(0.25)
    url = fs_get(sandbox, "collection.downloadHTML", collectionHash=collection)["data"]["resourceUrl"]
    archive = zipfile.ZipFile(io.BytesIO(requests.get(url, timeout=10).content))
    assert {"index.html", "pages/page-3.html", "files/document.pdf"} <= set(archive.namelist())
    time.sleep(60 / sandbox.state_store.speed + 0.3)
    assert requests.get(url, timeout=10).status_code == 403


# -- fault injection -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_injected_status_faults(sandbox, status):
    sandbox.fault("papyrs", status=status, route="pages/all")
    assert py(sandbox, "GET", "pages/all/").status_code == status
    assert py(sandbox, "GET", "pages/all/").status_code == 200


def test_injected_429_with_and_without_retry_after(sandbox):
    sandbox.fault("flippingbook", status=429, retry_after=7)
    sandbox.fault("flippingbook", status=429)
    first, second = fb(sandbox, "GET", "/auth/me"), fb(sandbox, "GET", "/auth/me")
    assert (first.status_code, first.headers.get("Retry-After")) == (429, "7")
    assert (second.status_code, second.headers.get("Retry-After")) == (429, None)


def test_injected_slow_drop_and_malformed(sandbox):
    sandbox.fault("papyrs", kind="slow", delay=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(f"{sandbox.url}/papyrs/@home/api/v1/pages/all/", timeout=0.3)
    sandbox.fault("papyrs", kind="drop")
    with pytest.raises(requests.RequestException):
        py(sandbox, "GET", "pages/all/")
    sandbox.fault("ipaper", kind="malformed", body="nocode")
    assert "<code>" not in ip(sandbox, "Paper.GetAllPapers", paperID="182").text
    sandbox.fault("flippingbook", kind="malformed", body="truncated")
    with pytest.raises(ValueError):
        fb(sandbox, "GET", "/auth/me").json()


def test_control_api_state_log_and_reset(sandbox):
    fb(sandbox, "GET", "/auth/me")
    control = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=5).json()
    assert control[-1]["path"] == "/flippingbook/api/v1/auth/me" and control[-1]["status"] == 200
    fault = requests.post(
        f"{sandbox.url}/_sandbox/faults", json={"vendor": "ipaper", "kind": "drop"}, timeout=5
    )
    assert fault.status_code == 200 and requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()
    assert (
        requests.post(
            f"{sandbox.url}/_sandbox/faults", json={"vendor": "x", "kind": "drop"}, timeout=5
        ).status_code
        == 400
    )
    assert requests.post(f"{sandbox.url}/_sandbox/reset", timeout=5).json() == {"ok": True}
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json() == []
    assert set(requests.get(f"{sandbox.url}/_sandbox/state", timeout=5).json()) == {
        "flippingbook",
        "flipsnack",
        "ipaper",
        "papyrs",
    }


def test_request_log_redacts_flipsnack_credentials(sandbox):
    fs_get(sandbox, "user.getStats")
    entry = sandbox.requests("flipsnack")[-1]
    creds = sandbox.state_store.credentials
    assert "apiKey=%2A%2A%2A" in entry.query and "signature=%2A%2A%2A" in entry.query
    assert creds.flipsnack_key not in entry.query


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_cli_prints_the_connections_and_stops_cleanly(stop):
    import json
    import signal
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "flipbook-sandbox"
    process = subprocess.Popen(
        [str(cli), "--port", "0", "--speed", "5", "--papyrs-token", "given-token-123"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        names = [line.split("=", 1)[0] for line in lines]
        assert names == [
            "AIRFLOW_CONN_FLIPPINGBOOK_DEFAULT",
            "AIRFLOW_CONN_FLIPSNACK_DEFAULT",
            "AIRFLOW_CONN_IPAPER_DEFAULT",
            "AIRFLOW_CONN_PAPYRS_DEFAULT",
        ]
        papyrs = json.loads(lines[3].split("=", 1)[1].strip("'"))
        assert papyrs["password"] == "given-token-123" and papyrs["extra"]["pacing_speed"] == 5
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(papyrs["host"].rsplit("/", 1)[0] + "/_sandbox/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        process.send_signal(getattr(signal, stop))
        assert process.wait(timeout=15) == 0


def test_ipaper_fifty_per_minute_then_429():
    with SandboxServer(speed=5) as server:  # a 12 s window: 51 calls always fall inside it
        codes = [ip(server, "Paper.GetAllPapers", paperID="182").status_code for _ in range(51)]
    assert codes[:50] == [200] * 50 and codes[50] == 429


def test_shape_variants_switch_through_the_control_api(sandbox, samples):
    control = f"{sandbox.url}/_sandbox/options"
    answer = requests.post(
        control,
        json={
            "flipsnack": {"items_key": "flipbooks"},
            "papyrs": {"failure_status": 200},
            "flippingbook": {"created_source_errors": "report"},
        },
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.json()["flipsnack"]["items_key"] == "flipbooks"
    creds = sandbox.state_store.credentials
    fields = {"apiKey": creds.flipsnack_key, "action": "collection.create", "title": "Variant"}
    fields["signature"] = sign(creds.flipsnack_secret, fields)
    with samples["three"].open("rb") as pdf:
        created = requests.post(
            f"{sandbox.url}/flipsnack-upload/v1/",
            data=fields,
            files={"file": ("three.pdf", pdf, "application/pdf")},
            timeout=10,
        ).json()["data"]
    assert "flipbooks" in created and "items" not in created
    assert requests.post(control, json={"flipsnack": {"nope": 1}}, timeout=5).status_code == 400
    sandbox.reset()  # a reset brings back the documented defaults
    assert sandbox.state_store.vendors["flipsnack"].options["items_key"] == "items"
