"""Papyrs guesses made safe, against the sandbox playing each variant: the folder field of
``pages/create`` (undocumented: ``category`` from peers, ``folder_id`` as ``pages/copy`` names it, or
none honoured), the Discussion widget's spec (undocumented), and attachments, which are files."""

from __future__ import annotations

import json

import pytest

from airflow_provider_flipbook._compat import AirflowException
from airflow_provider_flipbook.exceptions import InvalidInputError, VendorApiError
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook, page_widgets
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator

VARIANTS = ("category", "folder_id", "none")  # the field the emulated vendor honours
FIELDS = ("category", "folder_id")  # the field the connection sends


@pytest.fixture
def papyrs(sandbox, monkeypatch):
    """``papyrs(vendor_field, sent_field)``: the sandbox playing one variant, and a connection id
    sending one field (created folders: ``HR`` and ``HR/Policies``)."""

    def make(honoured: str, sent: str) -> str:
        state = sandbox.state_store.vendors["papyrs"].state
        state.options["page_folder_field"] = honoured
        state.new_page("home", "Folder maker", [[]], None, "HR/Policies")  # makes both folders
        conn = sandbox.connections()["papyrs"]
        extra = {**conn["extra"], "page_folder_field": sent, "retry_min_wait": 0.01}
        monkeypatch.setenv("AIRFLOW_CONN_PAPYRS_PLACED", json.dumps({**conn, "extra": extra}))
        return "papyrs_placed"

    return make


def pages_titled(sandbox, title: str) -> list[dict]:
    return [p for p in sandbox.state_store.vendors["papyrs"].state.pages.values() if p["title"] == title]


@pytest.mark.parametrize("sent", FIELDS)
@pytest.mark.parametrize("honoured", VARIANTS)
def test_a_page_lands_in_its_folder_or_the_task_fails_leaving_no_page(papyrs, sandbox, honoured, sent):
    hook = PapyrsHook(papyrs(honoured, sent))
    if honoured == sent:
        page = hook.create_page("Travel", category="HR/Policies")
        assert page["category"] == "HR/Policies"
        assert [p["category"] for p in pages_titled(sandbox, "Travel")] == ["HR/Policies"]
    else:
        with pytest.raises(VendorApiError, match=r"folder 'HR/Policies'.*came back in folder ''.*deleted"):
            hook.create_page("Travel", category="HR/Policies")
        assert pages_titled(sandbox, "Travel") == []


def test_folder_id_needs_an_existing_folder_and_says_so_before_any_call(papyrs, sandbox):
    hook = PapyrsHook(papyrs("folder_id", "folder_id"))
    before = len(sandbox.requests("papyrs"))
    with pytest.raises(InvalidInputError, match="'Finance' is not in folder/tree"):
        hook.create_page("Budget", category="Finance")
    assert [r.path for r in sandbox.requests("papyrs")[before:]] == ["/papyrs/@home/api/v1/folder/tree/"]


@pytest.mark.parametrize("sent", FIELDS)
@pytest.mark.parametrize("honoured", VARIANTS)
def test_replace_never_leaves_two_pages(papyrs, sandbox, context, honoured, sent):
    conn_id = papyrs(honoured, sent)

    def publish(text: str) -> None:
        PapyrsMarkdownPageOperator(
            task_id="page",
            papyrs_conn_id=conn_id,
            title="Weekly",
            folder="HR",
            markdown=text,
            if_exists="replace",
        ).execute(context)

    for text in ("# First", "# Second"):
        try:
            publish(text)
        except (AirflowException, VendorApiError):
            assert honoured != sent
        context["task_state_store"].data.clear()  # the next run, not a retry
    pages = pages_titled(sandbox, "Weekly")
    assert len(pages) == (1 if honoured == sent else 0)
    if pages:
        assert pages[0]["category"] == "HR"
        assert [w["text"] for w in page_widgets(pages[0])] == ["Second"]


def test_replace_refuses_namesakes_that_carry_no_folder(sandbox, context, canned_pages):
    """A listing without ``category`` cannot tell the page to replace: nothing is created or deleted."""
    with pytest.raises(AirflowException, match="carry no folder.*nothing was changed"):
        PapyrsMarkdownPageOperator(
            task_id="page", title="Weekly", folder="HR", markdown="# Hi", if_exists="replace"
        ).execute(context)
    assert [r.method for r in sandbox.requests("papyrs")] == ["GET"]


@pytest.fixture
def canned_pages(sandbox):
    """pages/all answers a namesake without ``category`` (a shape peers never showed)."""
    state = sandbox.state_store.vendors["papyrs"].state
    state.options["page_folder_field"] = "category"
    page = state.new_page("home", "Weekly", [[]], None, "HR")
    summary = state.summary
    state.summary = lambda p: {k: v for k, v in summary(p).items() if k != "category"}
    yield page
    del state.summary


def test_a_discussion_page_the_vendor_made_without_its_widget_is_deleted_and_the_task_fails(sandbox, context):
    sandbox.state_store.vendors["papyrs"].options["known_widgets"] = ["Paragraph", "Heading", "Attachment"]
    with pytest.raises(AirflowException, match="without the Discussion widget.*deleted again"):
        PapyrsMarkdownPageOperator(
            task_id="page", title="Talk", markdown="# Hi", discussion_post="First!"
        ).execute(context)
    assert pages_titled(sandbox, "Talk") == []
    assert sandbox.state()["papyrs"]["discussion_posts"] == 0


def test_a_discussion_page_gets_its_post(sandbox, context):
    result = PapyrsMarkdownPageOperator(
        task_id="page", title="Talk", markdown="# Hi", discussion_post="First!"
    ).execute(context)
    assert result["post_id"] and sandbox.state()["papyrs"]["discussion_posts"] == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda hook: hook.create_widget("8001", "attachment", "report.pdf"),
        lambda hook: hook.update_widget("8001", "attachment", "8002", "report.pdf"),
    ],
)
def test_an_attachment_widget_without_a_file_is_refused_before_any_call(sandbox, call):
    with pytest.raises(InvalidInputError, match="multipart 'file'"):
        call(PapyrsHook())
    assert sandbox.requests("papyrs") == []
