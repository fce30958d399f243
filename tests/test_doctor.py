"""flipbook-doctor against the sandbox: every connection type, shape variants, no credential in the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from airflow_provider_flipbook.doctor import CHECK_IDS, main
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook
from airflow_provider_flipbook.utils.pdf import make_sample_pdf

VENDORS = tuple(CHECK_IDS)
CONN_IDS = [f"{vendor}_default" for vendor in VENDORS]


def secrets_of(sandbox) -> list[str]:
    credentials = sandbox.state_store.credentials  # values() leaves out the Flipsnack key: we hide it too
    return [str(v) for v in (*credentials.values(), credentials.flipsnack_key) if v]


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def results(output: str) -> dict[str, dict]:
    return {c["id"]: c for conn in json.loads(output)["connections"] for c in conn["checks"]}


def set_options(sandbox, options: dict) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/options", json=options, timeout=10)
    assert response.status_code == 200, response.text


@pytest.fixture
def seeded(sandbox, tmp_path, pdf_server, samples):
    """Two objects per vendor, so paging and field checks have something to read."""
    pdf = tmp_path / "one.pdf"
    make_sample_pdf(pdf, 1, "doctor")
    for name in ("first", "second"):
        FlippingBookHook().create_publication(name=name, url=pdf_server(pdf.read_bytes()), filename="one.pdf")
        FlipsnackHook().create_collection(open_file=lambda: open(pdf, "rb"), filename="one.pdf", title=name)
    # A long job keeps one paper in GetProcessingPapers while the doctor runs (about a minute).
    ipaper = IPaperHook()
    paper = ipaper.create_paper(ipaper.get_paper_id_from_url("/") or 0, "long", "doctor-long")
    ipaper.process_pdf(paper, lambda: open(samples["long"], "rb"))
    page = PapyrsHook().create_page("doctor page", [[]])
    # The vendor offers no API to submit form records: put two in the emulator's store directly.
    sandbox.state_store.vendors["papyrs"].records[str(page["id"])] = [
        {"field": "Name", "value": "Ada"},
        {"field": "Name", "value": "Grace"},
    ]
    return sandbox


def test_all_assumptions_hold_against_the_sandbox_by_default(seeded, capsys):
    args = [a for conn_id in CONN_IDS for a in ("--conn-id", conn_id)]
    code, output = run(capsys, *args, "--json")
    checks = results(output)
    assert code == 0, output
    assert set(checks) == {f"{v}.{c}" for v, ids in CHECK_IDS.items() for c in ids}
    wrong = {k: v for k, v in checks.items() if v["status"] not in ("holds", "not checked")}
    assert not wrong, wrong
    # Seeded data means the paging and field checks really ran instead of being skipped.
    assert json.loads(output)["exit_code"] == 0
    for check in (
        "flippingbook.paging",
        "flippingbook.publication_fields",
        "flippingbook.source_fields",
        "ipaper.processing_list",
        "flipsnack.paging",
        "flipsnack.items",
        "ipaper.root_paper",
        "ipaper.tree",
        "ipaper.method_names",
        "papyrs.page_json",
        "papyrs.records_paging",
        "papyrs.error_envelope",
    ):
        assert checks[check]["status"] == "holds", (check, checks[check])
    assert all(
        checks[f"{v}.{w}"]["status"] == "not checked"
        for v in VENDORS
        for w in ("write_test", "job_guid", "page_ids")
        if w in CHECK_IDS[v]
    )
    for secret in secrets_of(seeded):
        assert secret not in output


def test_table_output_lists_every_check_and_never_a_credential(seeded, capsys):
    code, output = run(capsys, *[a for c in CONN_IDS for a in ("--conn-id", c)])
    assert code == 0, output
    for vendor, ids in CHECK_IDS.items():
        for check in ids:
            assert f"{vendor}.{check}" in output
    assert "0 differs" in output and "0 error" in output
    for secret in secrets_of(seeded):
        assert secret not in output


def test_write_test_creates_and_deletes_one_object_per_vendor(seeded, capsys):
    set_options(seeded, {"ipaper": {"job_guid": False}})
    before = seeded.state()
    code, output = run(capsys, *[a for c in CONN_IDS for a in ("--conn-id", c)], "--json", "--write-test")
    checks = results(output)
    assert code == 0, output
    for check in (
        "flippingbook.write_test",
        "flipsnack.write_test",
        "papyrs.write_test",
        "ipaper.job_guid",
        "ipaper.page_ids",
    ):
        assert checks[check]["status"] == "holds", (check, checks[check])
    after = seeded.state()
    assert after["flippingbook"]["publications"] == before["flippingbook"]["publications"]
    assert after["ipaper"]["papers"] == before["ipaper"]["papers"]
    for secret in secrets_of(seeded):
        assert secret not in output


def test_a_rerun_that_keeps_the_page_ids_differs(sandbox, capsys):
    set_options(sandbox, {"ipaper": {"page_ids": "kept"}})
    code, output = run(capsys, "--conn-id", "ipaper_default", "--json", "--write-test")
    checks = results(output)
    assert checks["ipaper.page_ids"]["status"] == "differs", checks["ipaper.page_ids"]
    assert checks["ipaper.job_guid"]["status"] == "holds", checks["ipaper.job_guid"]
    assert code == 2


def test_a_job_guid_in_the_processpdf_answer_differs_from_the_document(sandbox, capsys):
    set_options(sandbox, {"ipaper": {"job_guid": True}})
    code, output = run(capsys, "--conn-id", "ipaper_default", "--json", "--write-test")
    checks = results(output)
    assert checks["ipaper.job_guid"]["status"] == "differs", checks["ipaper.job_guid"]
    assert "jobGuid" in checks["ipaper.job_guid"]["seen"]
    assert code == 2
    assert sandbox.state()["ipaper"]["papers"] == 0  # the test paper was deleted


@pytest.mark.parametrize(
    "options, check, expected",
    [
        ({"flipsnack": {"items_key": "flipbooks"}}, "flipsnack.items", "holds"),
        ({"flipsnack": {"items_key": "documents"}}, "flipsnack.items", "differs"),
        ({"flippingbook": {"progress_key": "progress"}}, "flippingbook.source_fields", "holds"),
        ({"flippingbook": {"progress_key": "percent"}}, "flippingbook.source_fields", "differs"),
        ({"ipaper": {"root_url_lookup": False}}, "ipaper.root_paper", "differs"),
    ],
)
def test_shape_variants_of_the_sandbox_are_told_apart(seeded, capsys, options, check, expected):
    set_options(seeded, options)
    vendor = check.split(".")[0]
    code, output = run(capsys, "--conn-id", f"{vendor}_default", "--json")
    result = results(output)[check]
    assert result["status"] == expected, result
    assert code == (2 if expected == "differs" else 0), output
    for secret in secrets_of(seeded):
        assert secret not in output


@pytest.mark.parametrize(
    "vendor, check",
    [
        ("flippingbook", "flippingbook.auth"),
        ("flipsnack", "flipsnack.auth"),
        ("ipaper", "ipaper.auth"),
        ("papyrs", "papyrs.auth"),
    ],
)
def test_an_unreadable_answer_differs_and_exits_2(sandbox, capsys, vendor, check):
    # The first request of each vendor's checks gets an HTML page instead of the vendor's envelope.
    sandbox.fault(vendor, "malformed", body="html", count=1)
    code, output = run(capsys, "--conn-id", f"{vendor}_default", "--json")
    checks = results(output)
    assert checks[check]["status"] == "differs", checks[check]
    assert code == 2


def test_rejected_credentials_differ_and_are_not_printed(sandbox, capsys, monkeypatch):
    conn = dict(sandbox.connections()["flipsnack"])
    conn.update(password="not-the-secret-987", login="not-the-key-654")
    monkeypatch.setenv("AIRFLOW_CONN_FLIPSNACK_WRONG", json.dumps(conn))
    code, output = run(capsys, "--conn-id", "flipsnack_wrong")
    assert code == 2
    assert "flipsnack.auth" in output and "differs" in output and "code 41" in output
    assert "not-the-secret-987" not in output and "not-the-key-654" not in output


def test_an_unknown_connection_is_an_error_exit_1(sandbox, capsys):
    code, output = run(capsys, "--conn-id", "no_such_connection_here", "--json")
    assert code == 1
    assert results(output)["no_such_connection_here.connection"]["status"] == "error"


def test_the_iPaper_root_is_compared_with_the_connection_extra(sandbox, capsys, monkeypatch):
    actual = IPaperHook().get_paper_id_from_url("/")
    for conn_id, root_id, expected, exit_expected in (
        ("ipaper_other_root", 424242, "differs", 2),
        ("ipaper_same_root", actual, "holds", 0),
    ):
        conn = dict(sandbox.connections()["ipaper"])
        conn["extra"] = {**conn["extra"], "root_paper_id": root_id}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        code, output = run(capsys, "--conn-id", conn_id, "--json")
        root = results(output)["ipaper.root_paper"]
        assert root["status"] == expected and f"root_paper_id={root_id}" in root["seen"], root
        assert code == exit_expected, output


def test_the_console_script_runs_as_a_subprocess(seeded):
    script = Path(sys.executable).with_name("flipbook-doctor")
    env = {**os.environ, **seeded.env()}
    done = subprocess.run(
        [str(script), "--conn-id", "papyrs_default", "--conn-id", "flippingbook_default"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "papyrs.list_shape" in done.stdout and "flippingbook.paging" in done.stdout
    for secret in secrets_of(seeded):
        assert secret not in done.stdout and secret not in done.stderr


def test_python_dash_m_runs_the_doctor_and_an_unknown_connection_exits_1():
    done = subprocess.run(
        [sys.executable, "-m", "airflow_provider_flipbook.doctor", "--conn-id", "nope_nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "nope_nope.connection" in done.stdout and "error" in done.stdout
