"""flipbook-doctor when the account itself says no (a plan or licence limit, a feature not enabled, a
user without rights): the check says ``refused`` with the vendor's code and what to do, the other
checks go on, and the exit status is 3, not 2 ("differs": our wire assumption is wrong) nor 1."""

from __future__ import annotations

import pytest

from airflow_provider_flipbook.hooks.papyrs import PapyrsHook
from tests.doctor.helpers import results, run, set_options


def doctor(capsys, vendor: str, *args: str) -> tuple[int, dict[str, dict]]:
    code, output = run(capsys, "--conn-id", f"{vendor}_default", "--json", *args)
    return code, results(output)


@pytest.mark.parametrize("vendor_code", ["FeatureNotAvailable", "PlanLimitExceeded", ""])
def test_flippingbook_a_403_other_than_a_refused_key_is_the_account_refusing(sandbox, capsys, vendor_code):
    """The documents name no code for a plan or feature refusal: each plausible one, and none."""
    sandbox.fault(
        "flippingbook", "status", status=403, code=vendor_code, route=r"^GET /api/v1/fbonline/tracked_links"
    )
    code, checks = doctor(capsys, "flippingbook")
    link = checks["flippingbook.tracked_link_url"]
    assert link["status"] == "refused", link
    assert f"code {vendor_code or 'InternalError'}" in link["seen"] and "plan" in link["seen"], link
    assert checks["flippingbook.auth"]["status"] == "holds"
    assert checks["flippingbook.custom_domain"]["status"] == "holds"  # the others go on
    assert code == 3


def test_flippingbook_a_refused_listing_is_refused_not_differs(sandbox, capsys):
    sandbox.fault(
        "flippingbook",
        "status",
        status=403,
        code="AccessDenied",
        route=r"^GET /api/v1/fbonline/publication\?",
        count=5,
    )
    code, checks = doctor(capsys, "flippingbook")
    assert checks["flippingbook.envelope"]["status"] == "refused"
    assert "publication.list failed (HTTP 403, code AccessDenied)" in checks["flippingbook.envelope"]["seen"]
    assert checks["flippingbook.paging"]["seen"] == "needs listing, which failed (see flippingbook.envelope)"
    assert code == 3


def test_flippingbook_a_refused_key_is_still_a_refused_credential(sandbox, capsys):
    sandbox.fault("flippingbook", "status", status=403, code="InvalidApiKey", count=5)
    code, checks = doctor(capsys, "flippingbook")
    assert checks["flippingbook.auth"]["status"] == "error"
    assert checks["flippingbook.auth"]["seen"].startswith("credentials refused: ")
    assert code == 1


def test_flipsnack_uploads_used_up_is_the_account_refusing(sandbox, capsys):
    sandbox.fault("flipsnack", "status", status=200, code="33", route=r"^POST ")
    code, checks = doctor(capsys, "flipsnack", "--write-test")
    write = checks["flipsnack.write_test"]
    assert write["status"] == "refused" and "code 33" in write["seen"] and "this month" in write["seen"], (
        write
    )
    assert code == 3


def test_ipaper_a_licence_that_allows_no_processing_is_the_account_refusing(sandbox, capsys):
    set_options(sandbox, {"ipaper": {"license_allows_processing": False}})
    code, checks = doctor(capsys, "ipaper", "--write-test")
    job = checks["ipaper.job_guid"]
    assert job["status"] == "refused" and "LICENSE_DOES_NOT_ALLOW_PROCESSING" in job["seen"], job
    assert "upgrade" in job["seen"]
    assert checks["ipaper.page_ids"]["status"] == "not checked"
    assert code == 3


def test_ipaper_a_security_violation_after_the_login_worked_is_a_missing_right(sandbox, capsys):
    sandbox.fault(
        "ipaper", "status", status=200, code="LOGIN_SECURITY_VIOLATION", route="GetAllPapers", count=5
    )
    code, checks = doctor(capsys, "ipaper")
    assert checks["ipaper.auth"]["status"] == "holds"
    refused = [c for c in checks.values() if c["status"] == "refused"]
    assert refused and all("LOGIN_SECURITY_VIOLATION" in c["seen"] and "rights" in c["seen"] for c in refused)
    assert not [c for c in checks.values() if c["status"] in ("differs", "error")], checks
    assert code == 3


def test_papyrs_a_403_after_the_token_worked_is_a_missing_right(sandbox, capsys):
    PapyrsHook().create_page("doctor page", [[]])
    sandbox.fault("papyrs", "status", status=403, code="Permission denied", route=r"pages/get/", count=1)
    code, checks = doctor(capsys, "papyrs")
    assert checks["papyrs.auth"]["status"] == "holds"
    page = checks["papyrs.page_json"]
    assert page["status"] == "refused" and "HTTP 403" in page["seen"] and "Editor or Admin" in page["seen"], (
        page
    )
    assert checks["papyrs.error_envelope"]["status"] == "holds"  # the others go on
    assert code == 3
