"""flipbook-doctor against the sandbox: every check, every documented-silent variant told apart, no
credential in the output, the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_flipbook.doctor import CHECK_IDS
from airflow_provider_flipbook.doctor.checks import page_not_capped
from airflow_provider_flipbook.doctor.cli import VENDOR_CHECKS
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from tests.doctor.helpers import CONN_IDS, VENDORS, results, run, secrets_of, set_options

READ_CHECKS_THAT_RAN = (
    "flippingbook.publication_fields",
    "flippingbook.paging",
    "flippingbook.page_size",
    "flippingbook.source_fields",
    "flippingbook.tracked_link_url",
    "flipsnack.list_fields",
    "flipsnack.paging",
    "flipsnack.page_size",
    "flipsnack.list_count",
    "flipsnack.query",
    "flipsnack.items",
    "flipsnack.list_items",
    "ipaper.root_paper",
    "ipaper.tree",
    "ipaper.method_names",
    "ipaper.search_fields",
    "ipaper.processing_list",
    "papyrs.list_shape",
    "papyrs.page_json",
    "papyrs.records_paging",
    "papyrs.page_size",
    "papyrs.error_envelope",
)


def test_check_ids_are_the_vendor_modules_functions_in_order():
    for vendor, module in VENDOR_CHECKS.items():
        assert CHECK_IDS[vendor] == tuple(check.__name__ for check in module.CHECKS)
        assert module.WRITE_CHECKS <= set(module.CHECKS)


def test_all_assumptions_hold_against_the_sandbox_by_default(seeded, capsys):
    code, output = run(capsys, *[a for c in CONN_IDS for a in ("--conn-id", c)], "--json")
    checks = results(output)
    assert code == 0, output
    assert set(checks) == {f"{v}.{c}" for v, ids in CHECK_IDS.items() for c in ids}
    wrong = {k: v for k, v in checks.items() if v["status"] not in ("holds", "not checked")}
    assert not wrong, wrong
    for check in READ_CHECKS_THAT_RAN:  # seeded data: these ran instead of being skipped
        assert checks[check]["status"] == "holds", (check, checks[check])
    for vendor, module in VENDOR_CHECKS.items():
        for check in module.WRITE_CHECKS:
            assert checks[f"{vendor}.{check.__name__}"] == {
                "id": f"{vendor}.{check.__name__}",
                "status": "not checked",
                "seen": "needs --write-test",
            }
    for secret in secrets_of(seeded):
        assert secret not in output


def test_an_empty_account_is_not_checked_with_its_reason(sandbox, capsys):
    code, output = run(capsys, *[a for c in CONN_IDS for a in ("--conn-id", c)], "--json")
    checks = results(output)
    assert code == 0, output
    assert checks["flippingbook.publication_fields"]["seen"] == "the account has no publication"
    assert checks["flipsnack.items"]["seen"] == "the account has no collection"
    assert checks["papyrs.page_json"]["seen"] == "the subsite has no page"


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
    for vendor, module in VENDOR_CHECKS.items():
        for check in module.WRITE_CHECKS:
            assert checks[f"{vendor}.{check.__name__}"]["status"] == "holds", checks[
                f"{vendor}.{check.__name__}"
            ]
    after = seeded.state()
    for vendor, kind in (("flippingbook", "publications"), ("ipaper", "papers"), ("papyrs", "pages")):
        assert after[vendor][kind] == before[vendor][kind], (vendor, before, after)
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
    "options, check, expected, said",
    [
        ({"flipsnack": {"items_key": "items"}}, "flipsnack.items", "holds", "; items list of 1"),
        ({"flipsnack": {"items_key": "flipbooks"}}, "flipsnack.items", "holds", "; flipbooks list of 1"),
        ({"flipsnack": {"items_key": "documents"}}, "flipsnack.items", "differs", "no item list"),
        (
            {"flippingbook": {"progress_key": "Progress"}},
            "flippingbook.source_fields",
            "holds",
            "under Progress",
        ),
        (
            {"flippingbook": {"progress_key": "progress"}},
            "flippingbook.source_fields",
            "holds",
            "under progress",
        ),
        # Progress is optional: read when present, never required.
        ({"flippingbook": {"progress_key": "percent"}}, "flippingbook.source_fields", "holds", "no key"),
        ({"flippingbook": {"link_url": True}}, "flippingbook.tracked_link_url", "holds", "the vendor gives"),
        ({"flippingbook": {"link_url": False}}, "flippingbook.tracked_link_url", "holds", "from urlName"),
        ({"ipaper": {"root_url_lookup": False}}, "ipaper.root_paper", "differs", "set the connection extra"),
        ({"flipsnack": {"list_query": "text"}}, "flipsnack.query", "holds", "(the filter narrows the list)"),
        ({"flipsnack": {"list_query": "ignored"}}, "flipsnack.query", "holds", "(the filter is ignored"),
        ({"flipsnack": {"list_query": "description"}}, "flipsnack.query", "differs", "not that one"),
        ({"flipsnack": {"list_cap": 1}}, "flipsnack.page_size", "differs", "gave 1 of 2: the vendor caps"),
        ({"flipsnack": {"list_count": "total"}}, "flipsnack.list_count", "holds", "the whole list's length"),
        ({"flipsnack": {"list_count": "range"}}, "flipsnack.list_count", "differs", "collectionCount 1: not"),
        ({"flipsnack": {"list_count": "absent"}}, "flipsnack.list_count", "differs", "collectionCount None"),
        ({"flipsnack": {"list_items": True}}, "flipsnack.list_items", "holds", "entries carry items"),
        ({"flipsnack": {"list_items": False}}, "flipsnack.list_items", "differs", "no item list"),
        ({"ipaper": {"custom_field_value": "element"}}, "ipaper.custom_field_value", "holds", "['field']"),
        ({"ipaper": {"custom_field_value": "attribute"}}, "ipaper.custom_field_value", "holds", "['field']"),
        ({"ipaper": {"custom_field_value": "fields"}}, "ipaper.custom_field_value", "holds", "'fields'"),
        ({"ipaper": {"custom_field_value": "value"}}, "ipaper.custom_field_value", "holds", "['value']"),
        (
            {"ipaper": {"custom_field_value": "definitions"}},
            "ipaper.custom_field_value",
            "differs",
            "unrecognised",
        ),
    ],
)
def test_shape_variants_of_the_sandbox_are_told_apart(seeded, capsys, options, check, expected, said):
    set_options(seeded, options)
    vendor = check.split(".")[0]
    code, output = run(capsys, "--conn-id", f"{vendor}_default", "--json")
    result = results(output)[check]
    assert result["status"] == expected and said in result["seen"], result
    assert code == (2 if expected == "differs" else 0), output
    for secret in secrets_of(seeded):
        assert secret not in output


@pytest.mark.parametrize(
    "honoured, expected, said",
    [
        ("category", "holds", "pages/all lists it there"),
        ("folder_id", "differs", "came back in folder ''"),
        ("none", "differs", "came back in folder ''"),
    ],
)
def test_a_folder_field_the_vendor_ignores_differs(seeded, capsys, honoured, expected, said):
    set_options(seeded, {"papyrs": {"page_folder_field": honoured}})
    pages = seeded.state()["papyrs"]["pages"]
    code, output = run(capsys, "--conn-id", "papyrs_default", "--json", "--write-test")
    checks = results(output)
    assert checks["papyrs.category"]["status"] == expected and said in checks["papyrs.category"]["seen"], (
        checks
    )
    if expected == "differs":  # one cause, one line: the rest of the write test names it
        assert checks["papyrs.write_test"]["seen"] == "needs written, which failed (see papyrs.category)"
    assert seeded.state()["papyrs"]["pages"] == pages  # the test page is gone either way


@pytest.mark.parametrize(
    "known, widget, post",
    [(None, "holds", "holds"), (["Paragraph", "Heading"], "differs", "not checked")],
)
def test_a_vendor_that_drops_the_discussion_widget_differs(sandbox, capsys, known, widget, post):
    set_options(sandbox, {"papyrs": {"known_widgets": known}})
    code, output = run(capsys, "--conn-id", "papyrs_default", "--json", "--write-test")
    checks = results(output)
    assert checks["papyrs.discussion_widget"]["status"] == widget, checks["papyrs.discussion_widget"]
    assert checks["papyrs.discussion_post"]["status"] == post, checks["papyrs.discussion_post"]
    assert code == (0 if widget == "holds" else 2), output


def test_the_iPaper_root_is_compared_with_the_connection_extra(sandbox, capsys, connection):
    actual = IPaperHook().get_paper_id_from_url("/")
    extra = sandbox.connections()["ipaper"]["extra"]
    for conn_id, root_id, expected, exit_expected in (
        ("ipaper_other_root", 424242, "differs", 2),
        ("ipaper_same_root", actual, "holds", 0),
    ):
        connection("ipaper", conn_id, extra={**extra, "root_paper_id": root_id})
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


def test_vendors_are_the_provider_connection_types():
    from airflow_provider_flipbook import vendors

    assert set(VENDORS) == set(vendors.VENDORS)


@pytest.mark.parametrize(
    "items, expected, said",
    [
        (3, "holds", "gave all 3"),  # a short page that is the whole list
        (5, "holds", "came back full"),
    ],
)
def test_a_page_that_is_the_whole_list_holds(items, expected, said):
    def fetch(offset: int, count: int) -> list[int]:
        return list(range(items))[offset : offset + count]

    outcome = page_not_capped(fetch, 5, "the list")
    assert outcome.status == expected and said in outcome.seen


def test_a_page_capped_below_the_size_asked_differs_without_a_total():
    caps: list[int] = []

    def fetch(offset: int, count: int) -> list[int]:
        return list(range(10))[offset : offset + min(count, 3)]  # never more than 3, silently

    outcome = page_not_capped(fetch, 5, "the list", observe=caps.append)
    assert outcome.status == "differs" and "yet there are more" in outcome.seen
    assert caps == [3]
