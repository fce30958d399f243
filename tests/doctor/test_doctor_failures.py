"""flipbook-doctor when things go wrong: one cause gives one line with its advice, the rest say
"not checked" and why; a refused credential, an unreachable or failing vendor exit 1, fast."""

from __future__ import annotations

import socket
import threading

import pytest

from airflow_provider_flipbook.doctor import CHECK_IDS
from tests.doctor.helpers import VENDORS, closed_port, results, run, secrets_of

NAMES = {"flippingbook": "FlippingBook", "flipsnack": "Flipsnack", "ipaper": "iPaper", "papyrs": "Papyrs"}


def later_checks(checks: dict[str, dict], vendor: str) -> list[dict]:
    return [checks[f"{vendor}.{name}"] for name in CHECK_IDS[vendor][1:]]


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_refused_credential_is_one_line_with_its_advice(sandbox, capsys, connection, vendor):
    changes = {"password": "not-the-secret-987"}
    if vendor == "flipsnack":
        changes["login"] = "not-the-key-654"
    conn_id = connection(vendor, f"{vendor}_wrong", **changes)
    code, output = run(capsys, "--conn-id", conn_id, "--json")
    checks = results(output)
    auth = checks[f"{vendor}.auth"]
    assert code == 1, output
    assert auth["status"] == "error" and auth["seen"].startswith("credentials refused: "), auth
    assert all(
        c == {**c, "status": "not checked", "seen": "credentials refused"}
        for c in later_checks(checks, vendor)
    )
    assert "not-the-secret-987" not in output and "not-the-key-654" not in output
    if vendor == "ipaper":
        assert "two-factor" in auth["seen"] and "'APIKey'" in auth["seen"], auth
    assert len(sandbox.requests(vendor)) == 1  # refused once: nothing asked again


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_closed_port_is_unreachable_one_line_exit_1(sandbox, capsys, connection, vendor):
    conn = sandbox.connections()[vendor]
    conn_id = connection(
        vendor,
        f"{vendor}_closed",
        host=conn["host"].replace(sandbox.url, f"http://127.0.0.1:{closed_port()}"),
    )
    code, output = run(capsys, "--conn-id", conn_id, "--json")
    checks = results(output)
    auth = checks[f"{vendor}.auth"]
    assert code == 1, output
    assert (
        auth["status"] == "error" and f"{NAMES[vendor]} is unreachable at http://127.0.0.1:" in auth["seen"]
    ), auth
    reason = f"{NAMES[vendor]} is unreachable (see {vendor}.auth)"
    assert all(c["status"] == "not checked" and c["seen"] == reason for c in later_checks(checks, vendor))


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_vendor_answering_500_is_failing_after_one_retry_not_five(sandbox, capsys, vendor):
    sandbox.fault(vendor, "status", status=500, count=50)
    code, output = run(capsys, "--conn-id", f"{vendor}_default", "--json")
    checks = results(output)
    auth = checks[f"{vendor}.auth"]
    assert code == 1, output
    assert auth["status"] == "error" and f"{NAMES[vendor]} is failing at " in auth["seen"], auth
    assert "HTTP 500" in auth["seen"], auth
    assert all(
        c["seen"] == f"{NAMES[vendor]} is failing (see {vendor}.auth)" for c in later_checks(checks, vendor)
    )
    assert len(sandbox.requests(vendor)) == 2  # the doctor's one retry, not the tasks' five


def test_one_500_heals_with_the_retry(sandbox, capsys):
    sandbox.fault("papyrs", "status", status=500, count=1)
    code, output = run(capsys, "--conn-id", "papyrs_default", "--json")
    assert code == 0, output
    assert results(output)["papyrs.auth"]["status"] == "holds"


def test_a_host_that_never_answers_is_given_up_after_the_timeout(capsys, connection, monkeypatch):
    accepted: list[socket.socket] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def accept() -> None:  # take connections and never answer
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        conn_id = connection(
            "papyrs", "papyrs_silent", host=f"http://127.0.0.1:{server.getsockname()[1]}/papyrs"
        )
        code, output = run(capsys, "--conn-id", conn_id, "--json", "--timeout", "1")
    finally:
        server.close()
        for sock in accepted:
            sock.close()
    auth = results(output)["papyrs.auth"]
    assert code == 1, output
    assert auth["status"] == "error" and "no answer" in auth["seen"] and "within 1 s" in auth["seen"], auth
    assert len(accepted) == 1  # the call's deadline is the timeout: no retry after a silent minute


def test_an_empty_listing_and_a_refused_listing_are_told_apart(sandbox, capsys):
    code, output = run(capsys, "--conn-id", "flippingbook_default", "--json")
    empty = results(output)
    assert code == 0 and empty["flippingbook.publication_fields"]["seen"] == "the account has no publication"
    sandbox.fault("flippingbook", "status", status=403, route=r"^GET /api/v1/fbonline/publication\?", count=5)
    code, output = run(capsys, "--conn-id", "flippingbook_default", "--json")
    refused = results(output)
    assert code == 3, output  # the account refused (exit 3), not a wire assumption that differs (2)
    assert refused["flippingbook.envelope"]["status"] == "refused"
    assert "publication.list failed (HTTP 403" in refused["flippingbook.envelope"]["seen"]
    for check in ("publication_fields", "paging", "page_size", "source_fields"):
        assert refused[f"flippingbook.{check}"] == {
            "id": f"flippingbook.{check}",
            "status": "not checked",
            "seen": "needs listing, which failed (see flippingbook.envelope)",
        }
    assert refused["flippingbook.custom_domain"]["status"] == "holds"  # other answers are still checked


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_unreadable_answer_differs_and_exits_2(sandbox, capsys, vendor):
    # The first request of each vendor's checks gets an HTML page instead of the vendor's envelope.
    sandbox.fault(vendor, "malformed", body="html", count=1)
    code, output = run(capsys, "--conn-id", f"{vendor}_default", "--json")
    checks = results(output)
    assert checks[f"{vendor}.auth"]["status"] == "differs", checks[f"{vendor}.auth"]
    assert code == 2


def test_an_unknown_connection_is_an_error_exit_1(sandbox, capsys):
    code, output = run(capsys, "--conn-id", "no_such_connection_here", "--json")
    assert code == 1
    assert results(output)["no_such_connection_here.connection"]["status"] == "error"


def test_failures_never_print_a_credential(sandbox, capsys):
    for vendor in VENDORS:
        sandbox.fault(vendor, "status", status=500, count=50)
    code, output = run(capsys, *[a for v in VENDORS for a in ("--conn-id", f"{v}_default")])
    assert code == 1
    for secret in secrets_of(sandbox):
        assert secret not in output


def test_the_hosts_behind_links_and_uploads_are_checked(seeded, capsys, connection):
    """iPaper's viewer (the "View flipbook" link) and Flipsnack's upload host: unset, wrong and right."""
    ipaper, flipsnack = seeded.connections()["ipaper"], seeded.connections()["flipsnack"]
    right = [connection("ipaper", "ip_right"), connection("flipsnack", "fs_right")]
    unset = connection(
        "ipaper", "ip_unset", extra={k: v for k, v in ipaper["extra"].items() if k != "viewer_base_url"}
    )
    wrong = [
        connection(
            "ipaper", "ip_wrong", extra={**ipaper["extra"], "viewer_base_url": f"{seeded.url}/nowhere"}
        ),
        connection(
            "flipsnack",
            "fs_wrong",
            extra={**flipsnack["extra"], "upload_host": f"{seeded.url}/_sandbox/health"},
        ),
    ]
    checks = {}
    for conn_id in (*right, unset, *wrong):
        code, output = run(capsys, "--conn-id", conn_id, "--json")
        checks[conn_id] = results(output)
    assert checks["ip_right"]["ipaper.viewer_base_url"]["status"] == "holds"
    assert checks["fs_right"]["flipsnack.upload_host"]["status"] == "holds"
    assert checks["ip_unset"]["ipaper.viewer_base_url"]["status"] == "not checked"
    assert "set that extra" in checks["ip_unset"]["ipaper.viewer_base_url"]["seen"]
    assert checks["ip_wrong"]["ipaper.viewer_base_url"] == {
        **checks["ip_wrong"]["ipaper.viewer_base_url"],
        "status": "differs",
        "seen": "the first paper's viewer page answered HTTP 404",
    }
    assert checks["fs_wrong"]["flipsnack.upload_host"]["status"] == "differs"
    assert "upload_host" in checks["fs_wrong"]["flipsnack.upload_host"]["seen"]
