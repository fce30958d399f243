"""Exactly once when the vendor commits a create and its answer is lost (sandbox fault ``lost_answer``)."""

import calendar
import re
import time

import pytest

from airflow_provider_flipbook._compat import AirflowException
from airflow_provider_flipbook.exceptions import VendorApiError
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.vendors import publishing_types
from tests.conftest import needs_task_state_store

LOST_AS = ("502", "504", "cut", "timeout")
LATE = 600.0  # seconds between a try and Airflow's retry: later than any reconciliation window
# Every creating call an operator makes: (vendor, route of the call, what the sandbox counts, how many).
UPLOADS = {
    "flippingbook": ("POST /api/v1/fbonline/publication\\?", "publications"),
    "ipaper-paper": ("CreatePaper", "papers"),
    "ipaper-process": ("ProcessPDF", "papers"),
    "flipsnack": ("POST /v1/", "collections"),
}


def creating_calls(sandbox, vendor, fragment):
    return [r for r in sandbox.requests(vendor) if r.method == "POST" and fragment in r.path]


@pytest.mark.parametrize("lost_as", LOST_AS)
@pytest.mark.parametrize("call", UPLOADS)
def test_upload_adopts_what_the_vendor_created(sandbox, samples, context, fast, call, lost_as):
    vendor = call.split("-")[0]
    route, counted = UPLOADS[call]
    sandbox.fault(vendor, kind="lost_answer", route=route, lost_as=lost_as)
    result = UploadPdfOperator(
        task_id="u",
        conn_id=fast[vendor],
        pdf=str(samples["small"]),
        name="Lost answer",
        wait_for_conversion=True,
        poll_interval=0.05,
    ).execute(context)
    assert result["total_pages"] == 4 and result["publication_id"]
    assert sandbox.state()[vendor][counted] == 1
    assert not sandbox.state_store.faults, "the fault was never hit"
    if vendor == "ipaper":
        assert len(creating_calls(sandbox, "ipaper", "ProcessPDF")) == 1, "the PDF was processed twice"
        assert len(creating_calls(sandbox, "ipaper", "CreatePaper")) == 1


@pytest.mark.parametrize("lost_as", LOST_AS)
def test_new_version_adopts_the_source(sandbox, samples, context, fast, lost_as):
    first = UploadPdfOperator(
        task_id="u", conn_id=fast["flippingbook"], pdf=str(samples["small"]), name="Versions"
    ).execute(context)
    sandbox.fault(
        "flippingbook",
        kind="lost_answer",
        route="POST /api/v1/fbonline/publication/.+/source",
        lost_as=lost_as,
    )
    second = UploadPdfOperator(
        task_id="v",
        conn_id=fast["flippingbook"],
        pdf=str(samples["three"]),
        publication_id=first["publication_id"],
        wait_for_conversion=True,
        poll_interval=0.05,
    ).execute({})
    assert second["version_id"] and second["version_id"] != first["version_id"]
    assert second["total_pages"] == 3
    assert len(creating_calls(sandbox, "flippingbook", "/source")) == 1
    assert not sandbox.state_store.faults


@pytest.mark.parametrize("lost_as", LOST_AS)
def test_tracked_link_created_once(sandbox, samples, context, fast, lost_as):
    upload = UploadPdfOperator(
        task_id="u", conn_id=fast["flippingbook"], pdf=str(samples["small"]), name="Links"
    ).execute(context)
    sandbox.fault(
        "flippingbook", kind="lost_answer", route="POST /api/v1/fbonline/tracked_links", lost_as=lost_as
    )
    link = CreateTrackedLinkOperator(
        task_id="l",
        publication=upload,
        title="Board",
        reuse_existing=False,
        flippingbook_conn_id=fast["flippingbook"],
    ).execute(context)
    assert link["url"] and link["title"] == "Board"
    assert sandbox.state()["flippingbook"]["tracked_links"] == 1
    assert not sandbox.state_store.faults


@pytest.mark.parametrize("lost_as", LOST_AS)
@pytest.mark.parametrize("route", ["pages/create", "markdown/create", "attachment/create"])
def test_markdown_page_created_once(sandbox, context, fast, tmp_path, route, lost_as):
    attachment = tmp_path / "figures.csv"
    attachment.write_text("a,b\n1,2\n")
    sandbox.fault("papyrs", kind="lost_answer", route=route, lost_as=lost_as)
    page = PapyrsMarkdownPageOperator(
        task_id="p",
        title="Weekly",
        markdown="# Hi\n\nThere",
        folder="Reports",
        attachments=[str(attachment)],
        papyrs_conn_id=fast["papyrs"],
    ).execute(context)
    assert page["widgets"] == 2 and page["attachments"] == ["figures.csv"]
    state = sandbox.state()["papyrs"]
    assert state["pages"] == 1 and state["widgets"] == 3  # two markdown widgets and one attachment
    assert not sandbox.state_store.faults


def test_two_new_objects_with_our_name_fail_naming_both(sandbox, samples, context, fast):
    """A colleague's upload with the same name in the same moment cannot be told from ours: fail, not guess."""
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

    hook = FlippingBookHook(fast["flippingbook"])
    original = hook.create_once

    def colleague_too(*args, **kwargs):
        lookup = kwargs["lookup"]
        kwargs["before"] = [p["id"] for p in lookup()]
        FlippingBookHook(fast["flippingbook"]).create_publication(name="Twin", filename="t.pdf")
        sandbox.fault("flippingbook", kind="lost_answer", route="POST /api/v1/fbonline/publication\\?")
        return original(*args, **kwargs)

    hook.create_once = colleague_too
    with pytest.raises(VendorApiError, match="2 new objects match publication name 'Twin'"):
        hook.create_publication(name="Twin", filename="t.pdf")
    assert sandbox.state()["flippingbook"]["publications"] == 2


@pytest.mark.parametrize(
    "vendor, route, message",
    [
        ("flippingbook", "POST /api/v1/fbonline/publication\\?", "InternalError"),
        ("ipaper", "ProcessPDF", "ERROR"),
        ("papyrs", "pages/create", "500"),
    ],
)
def test_a_repeated_vendor_500_on_a_create_fails_fast_with_its_message(
    sandbox, samples, context, fast, vendor, route, message
):
    sandbox.fault(vendor, route=route, status=500, count=100)
    operator = (
        PapyrsMarkdownPageOperator(task_id="p", title="t", markdown="x", papyrs_conn_id=fast[vendor])
        if vendor == "papyrs"
        else UploadPdfOperator(task_id="u", conn_id=fast[vendor], pdf=str(samples["small"]), name="x")
    )
    with pytest.raises(AirflowException, match="the same answer again") as error:
        operator.execute(context)
    assert message in str(error.value)
    sent = [r for r in sandbox.requests(vendor) if r.status == 500]
    assert len(sent) == 2, "sent once, looked, sent once more, then stopped"


@pytest.mark.parametrize("vendor", publishing_types())
def test_connection_refused_is_resent_without_a_lookup(sandbox, vendor, samples, monkeypatch):
    """A request that never left (nothing listens) is the one case a create may be sent again blindly."""
    import json

    from airflow_provider_flipbook.exceptions import TransientApiError
    from airflow_provider_flipbook.hooks import hook_for
    from airflow_provider_flipbook.sandbox.server import free_port

    conn = sandbox.connections()[vendor]
    nowhere = f"http://127.0.0.1:{free_port()}/x"
    conn = {
        **conn,
        "host": nowhere,
        "extra": {
            **conn["extra"],
            "upload_host": nowhere,
            "max_retries": 2,
            "retry_min_wait": 0.01,
            "retry_max_wait": 0.01,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_REFUSED", json.dumps(conn))
    hook = hook_for("refused")
    sleeps: list[float] = []
    hook._sleep = sleeps.append
    with pytest.raises(TransientApiError) as error:
        if vendor == "flippingbook":
            hook.call("POST", "/api/v1/fbonline/publication", json={"name": "x"}, creates=True)
        elif vendor == "flipsnack":
            hook.create_collection(file_url="http://example.invalid/x.pdf")
        else:
            hook.call("Paper.CreatePaper", parentID=1, name="x", urlName="x", creates=True)
    assert error.value.unsent and "OutcomeUnknown" not in type(error.value).__name__
    assert len(sleeps) == 2, "resent by the transport, as a read would be"


class Killed(BaseException):
    """The worker dies (SIGKILL, OOM, pod eviction): nothing in the task gets to run afterwards."""


def die_on_a_lost_answer(monkeypatch):
    """Make the worker die the moment a create's answer is lost; returns what revives it."""
    from airflow_provider_flipbook.hooks.base import FlipbookBaseHook

    original = FlipbookBaseHook.create_once

    def die_on_lost_answer(self, *args, **kwargs):
        create = args[1]

        def create_then_die():
            try:
                return create()
            except VendorApiError as error:
                raise Killed(str(error)) from None

        return original(self, args[0], create_then_die, *args[2:], **kwargs)

    monkeypatch.setattr(FlipbookBaseHook, "create_once", die_on_lost_answer)
    return lambda: monkeypatch.setattr(FlipbookBaseHook, "create_once", original)


def retry_later(monkeypatch, seconds=LATE):
    """Airflow's retry comes ``seconds`` after the first try: later than any reconciliation window."""
    from airflow_provider_flipbook.hooks.exactly_once import CreatesOnce

    monkeypatch.setattr(CreatesOnce, "_now", lambda self: time.time() + seconds)


@needs_task_state_store  # the journal lives in the task state store (Airflow 3.3+)
@pytest.mark.parametrize(
    "vendor, route, counted",
    [
        ("flippingbook", "POST /api/v1/fbonline/publication\\?", "publications"),
        ("flipsnack", "POST /v1/", "collections"),
        ("ipaper", "ProcessPDF", "papers"),
    ],
)
def test_task_killed_while_the_answer_is_lost_retries_without_a_second_create(
    sandbox, samples, context, fast, monkeypatch, vendor, route, counted
):
    """The worker dies after the vendor committed the create and before the answer came back (so no id
    reached the state store); Airflow's retry, minutes later, must adopt the object, not create another."""
    sandbox.fault(vendor, kind="lost_answer", route=route, lost_as="502")
    revive = die_on_a_lost_answer(monkeypatch)
    operator = UploadPdfOperator(
        task_id="u",
        conn_id=fast[vendor],
        pdf=str(samples["small"]),
        name="Killed",
        wait_for_conversion=True,
        poll_interval=0.05,
    )
    first_try = time.time()
    with pytest.raises(Killed):
        operator.execute(context)
    revive()
    assert sandbox.state()[vendor][counted] == 1
    context["ti"].try_number = 2
    retry_later(monkeypatch)
    result = operator.execute(context)  # Airflow's retry, same task state store
    assert result["total_pages"] == 4
    assert sandbox.state()[vendor][counted] == 1
    if vendor == "ipaper":
        assert len(creating_calls(sandbox, "ipaper", "ProcessPDF")) == 1
        # No job GUID in the answer: the wait for the job counts from when the first try queued it.
        queued = re.match(r"queued@(\d{8}T\d{6}Z)/", result["version_id"]).group(1)
        assert abs(calendar.timegm(time.strptime(queued, "%Y%m%dT%H%M%SZ")) - first_try) < 5


@needs_task_state_store  # the journal lives in the task state store (Airflow 3.3+)
@pytest.mark.parametrize("if_exists", ["add", "replace"])
def test_a_papyrs_page_retried_long_after_its_lost_create_is_adopted(
    sandbox, context, fast, monkeypatch, if_exists
):
    """Papyrs pages are told apart by ``created_at`` since the first attempt of the create (pages/all is
    not listed before it): a retry later than the clock-skew window still finds the page the lost call
    made, and a replacing retry keeps that page while it deletes the older namesake."""
    from airflow_provider_flipbook.hooks.papyrs import CLOCK_SKEW, PapyrsHook

    hook = PapyrsHook(fast["papyrs"])
    older = hook.create_page("Weekly", category="Reports")["id"] if if_exists == "replace" else None
    operator = PapyrsMarkdownPageOperator(
        task_id="p",
        title="Weekly",
        markdown="# Hi",
        folder="Reports",
        if_exists=if_exists,
        papyrs_conn_id=fast["papyrs"],
    )
    sandbox.fault("papyrs", kind="lost_answer", route="pages/create", lost_as="502")
    revive = die_on_a_lost_answer(monkeypatch)
    with pytest.raises(Killed):
        operator.execute(context)
    revive()
    (made,) = [p["id"] for p in hook.list_pages() if p["title"] == "Weekly" and p["id"] != older]
    context["ti"].try_number = 2
    retry_later(monkeypatch, 5 * CLOCK_SKEW)
    result = operator.execute(context)
    assert [p["id"] for p in hook.list_pages() if p["title"] == "Weekly"] == [made]
    assert result["page_id"] == made and result["widgets"] == 1
    assert result["replaced"] == ([older] if older else [])
    assert len(creating_calls(sandbox, "papyrs", "pages/create")) == 1 + (older is not None)


def test_the_journal_dates_the_first_attempt_so_a_late_retry_adopts_by_creation_time(
    sandbox, fast, monkeypatch
):
    """A create told apart by creation time alone (no list taken before it): the journal keeps when
    its first attempt began, so a retry much later than the skew window still adopts what it made."""
    from airflow_provider_flipbook.hooks.papyrs import CLOCK_SKEW, PapyrsHook
    from tests.conftest import FakeStateStore

    journal = FakeStateStore()
    sandbox.fault("papyrs", kind="lost_answer", route="pages/create", lost_as="502")
    revive = die_on_a_lost_answer(monkeypatch)
    hook = PapyrsHook(fast["papyrs"])
    hook.journal = journal
    with pytest.raises(Killed):
        hook.create_page("Weekly", category="Reports")
    revive()
    (made,) = [p["id"] for p in hook.list_pages() if p["title"] == "Weekly"]
    retry_later(monkeypatch, 5 * CLOCK_SKEW)
    again = PapyrsHook(fast["papyrs"])
    again.journal = journal
    assert again.create_page("Weekly", category="Reports")["id"] == made
    assert len(creating_calls(sandbox, "papyrs", "pages/create")) == 1


def test_a_papyrs_page_whose_answer_is_lost_is_found_after_long_backoffs(sandbox, fast):
    """Within one try (every Airflow version) the window's lower bound is the first attempt, however long
    the waits between the attempts are."""
    from airflow_provider_flipbook.hooks.papyrs import CLOCK_SKEW, PapyrsHook

    clock = [time.time()]
    hook = PapyrsHook(fast["papyrs"])
    hook._now = lambda: clock[0]
    hook._sleep = lambda seconds: clock.__setitem__(0, clock[0] + 5 * CLOCK_SKEW)
    sandbox.fault("papyrs", kind="lost_answer", route="pages/create", lost_as="502")
    page = hook.create_page("Weekly", category="Reports")
    assert clock[0] > time.time() + CLOCK_SKEW, "no backoff came between the attempts"
    assert [p["id"] for p in hook.list_pages() if p["title"] == "Weekly"] == [page["id"]]
    assert len(creating_calls(sandbox, "papyrs", "pages/create")) == 1
    assert not sandbox.state_store.faults


@pytest.fixture
def unpaced_papyrs(fast, monkeypatch):
    """A Papyrs hook of the fast connection without pacing, whose waits are recorded, not slept."""
    import json

    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook
    from tests.reliability.conftest import environ_conn

    conn = environ_conn(fast["papyrs"])
    conn["extra"]["pacing"] = False  # the hook's sleep then waits for nothing else
    monkeypatch.setenv("AIRFLOW_CONN_PAPYRS_UNPACED", json.dumps(conn))
    hook, waits = PapyrsHook("papyrs_unpaced"), []
    hook._sleep = waits.append
    return hook, waits


def test_a_create_whose_outcome_stays_unknown_is_resent_after_growing_waits(sandbox, unpaced_papyrs):
    """Four 502s the vendor did not act on: each time looked for, not found, and sent again after
    0.01 s, 0.02 s, 0.04 s, then 0.05 s (retry_max_wait)."""
    hook, waits = unpaced_papyrs
    sandbox.fault("papyrs", route="pages/create", status=502, count=4)
    page = hook.create_page("Weekly", category="Reports")
    assert waits == [0.01, 0.02, 0.04, 0.05]
    assert [p["id"] for p in hook.list_pages() if p["title"] == "Weekly"] == [page["id"]]
    assert len(creating_calls(sandbox, "papyrs", "pages/create")) == 5


def test_a_create_gives_up_after_max_retries_resends_naming_the_unknown_outcome(sandbox, unpaced_papyrs):
    from airflow_provider_flipbook.exceptions import OutcomeUnknownError

    hook, waits = unpaced_papyrs
    sandbox.fault("papyrs", route="pages/create", status=502, count=5)
    with pytest.raises(OutcomeUnknownError, match="the vendor may have done it"):
        hook.create_page("Weekly", category="Reports")
    assert len(creating_calls(sandbox, "papyrs", "pages/create")) == 5 and len(waits) == 4  # max_retries 4
    assert not [p for p in hook.list_pages() if p["title"] == "Weekly"]


def test_only_a_request_that_never_left_counts_as_never_sent():
    import requests
    import urllib3

    from airflow_provider_flipbook.hooks.exactly_once import never_sent

    refused = urllib3.exceptions.NewConnectionError(None, "refused")
    assert never_sent(requests.ConnectTimeout("connect timed out"))
    assert never_sent(requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", refused)))
    assert never_sent(requests.ConnectionError(refused))  # not wrapped
    assert not never_sent(requests.ConnectionError())  # nothing says where it stopped
    assert not never_sent(requests.ReadTimeout("read timed out"))
    assert not never_sent(requests.ConnectionError(urllib3.exceptions.ProtocolError("connection reset")))


@needs_task_state_store  # the second try must know the first one sent the post
@pytest.mark.parametrize("lost_as", ["502", "cut"])
def test_a_lost_discussion_post_fails_naming_the_page_and_is_never_posted_twice(
    sandbox, context, fast, lost_as
):
    """Papyrs cannot list a discussion: the safe failure (check this page) beats a duplicate comment."""
    sandbox.fault("papyrs", kind="lost_answer", route="feed/post", lost_as=lost_as)
    operator = PapyrsMarkdownPageOperator(
        task_id="p", title="Daily", markdown="# Hi", discussion_post="Updated", papyrs_conn_id=fast["papyrs"]
    )
    for _ in range(2):  # the try, then Airflow's retry
        with pytest.raises(AirflowException, match="feed.post: the answer .* was lost.*Look at the page"):
            operator.execute(context)
    assert sandbox.state()["papyrs"]["discussion_posts"] == 1
    assert sandbox.state()["papyrs"]["pages"] == 1
