"""iPaper's conversion waits on the account poll, against the sandbox over HTTP: a paper that left
the processing list costs one request of its own (its pages), never the list again; the round's list
call is the only one; a wait is not woken for each new progress figure; a job's status, once final,
is not asked again when the summary after it had to wait for a pacing slot."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import pytest

from airflow_provider_flipbook.hooks import ahook_for
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.triggers import account_poll
from airflow_provider_flipbook.triggers.conversion import PdfConversionTrigger


def ipaper_calls(sandbox, since: int = 0) -> list[str]:
    """The iPaper methods answered since request number ``since`` (a call refused for its rate and
    sent again counts once)."""
    return [r.path.rsplit("/", 1)[-1] for r in sandbox.requests("ipaper")[since:] if r.status != 429]


@pytest.fixture
def uploads(sandbox, samples, context) -> list[dict]:
    from airflow_provider_flipbook.operators import UploadPdfOperator

    return [
        UploadPdfOperator(
            task_id=f"u{n}", conn_id="ipaper_default", pdf=str(samples["long"]), name=f"Wait paper {n}"
        ).execute(context)
        for n in range(3)
    ]


def test_a_paper_the_round_did_not_list_costs_only_its_pages(sandbox, uploads):
    hook = IPaperHook()
    paper, marker = uploads[0]["publication_id"], uploads[0]["version_id"]
    assert marker.startswith("queued@")  # the documented ProcessPDF answer: no job GUID

    before = len(sandbox.requests("ipaper"))
    assert hook.listed_conversion_status(None, paper, marker) is None  # the list cannot tell
    hook.conversion_status(paper, marker, summary=True)
    assert ipaper_calls(sandbox, before) == ["GetPaperStructure"]  # the summary reads the same pages

    # A later round lists the paper again (say, a new job): the status call asks the list itself.
    assert hook.listed_conversion_status({"paper-id": paper, "progress": "5"}, paper, marker) is not None
    before = len(sandbox.requests("ipaper"))
    hook.conversion_status(paper, marker, summary=False)
    assert ipaper_calls(sandbox, before)[0] == "GetProcessingPapers"


def test_the_rounds_list_call_is_the_only_one(sandbox, uploads, monkeypatch):
    polls: list[account_poll.AccountPoll] = []
    start_poll = account_poll.AccountPoll.__init__

    def recorded(poll: account_poll.AccountPoll, *args: Any) -> None:
        start_poll(poll, *args)
        polls.append(poll)

    monkeypatch.setattr(account_poll.AccountPoll, "__init__", recorded)
    triggers = [
        PdfConversionTrigger(
            conn_id="ipaper_default",
            publication_id=u["publication_id"],
            version_id=u["version_id"],
            poll_interval=0.1,
            deadline=time.time() + 60,
            wait_first=False,
            summary=False,
        )
        for u in uploads
    ]
    before = len(sandbox.requests("ipaper"))

    async def first(trigger: PdfConversionTrigger) -> dict:
        return [e.payload async for e in trigger.run()][0]

    async def scenario() -> list[dict]:
        return list(await asyncio.gather(*(first(t) for t in triggers)))

    answers = asyncio.run(scenario())
    assert [a["status"] for a in answers] == ["success"] * len(uploads)
    (poll,) = polls
    calls = ipaper_calls(sandbox, before)
    # One per round at most (a round cut short by the last wait leaving sent none): none per paper
    # that left the list.
    assert calls.count("GetProcessingPapers") <= poll.rounds
    # One per paper: waits on the same paper and job ask together, one request between them.
    assert calls.count("GetPaperStructure") >= len({(u["publication_id"], u["version_id"]) for u in uploads})


def test_a_wait_is_woken_when_its_paper_leaves_the_list_not_for_each_new_progress(sandbox, samples, context):
    """Every listed job's progress changes every round: waking every wait for it (2000 waits, each
    logging its new figure) held the loop so long that the rounds fell behind and the end checks
    queued (500 waits: rounds 15 vendor s apart instead of 10). A wait is woken at its first round and
    when its paper leaves the list."""
    from airflow_provider_flipbook.operators import UploadPdfOperator

    upload = UploadPdfOperator(  # 400 pages: a job of 62 vendor s, over a second at the sandbox's speed
        task_id="u", conn_id="ipaper_default", pdf=str(samples["long"]), name="Progress paper"
    ).execute(context)
    paper = upload["publication_id"]

    async def scenario() -> tuple[list[str], Counter]:
        hook = await ahook_for("ipaper_default")
        listing = hook.status_listing
        seen: list[str] = []
        delivered: Counter = Counter()
        async with (
            account_poll.subscribe(hook, listing, interval=0.05) as watcher,
            account_poll.subscribe(hook, listing, interval=0.05, key=paper) as wait,
        ):
            deliver = wait.deliver

            def counted(answer: Any) -> None:
                delivered["wait"] += 1
                deliver(answer)

            wait.deliver = counted  # type: ignore[method-assign]
            while (entry := (await watcher.next()).entry(paper)) is not None:
                seen.append(entry["progress"])
        return seen, delivered

    progress, delivered = asyncio.run(scenario())
    assert len(set(progress)) >= 3, progress  # the list told a new progress at several rounds
    assert delivered == {"wait": 2}  # its first round, and the round its paper was no longer listed


def test_a_final_job_status_is_not_asked_again_when_the_summary_waited_for_a_slot(
    sandbox, samples, context, monkeypatch
):
    """With a job GUID the status call is two requests: the job's status, then the paper's summary.
    On the loop, the second one finding no free pacing slot runs the call again once a slot is
    booked; asking the status again spent that slot, so with one call per window the summary never
    found one (the call went round forever). The final status is kept: the rerun asks the summary."""
    from airflow_provider_flipbook.operators import UploadPdfOperator

    sandbox.state_store.vendors["ipaper"].options["job_guid"] = True  # ProcessPDF answers a jobGuid
    upload = UploadPdfOperator(
        task_id="u", conn_id="ipaper_default", pdf=str(samples["three"]), name="Job paper"
    ).execute(context)
    paper, job = upload["publication_id"], upload["version_id"]
    assert not job.startswith("queued@")
    while IPaperHook().get_processing_status(job) == "Pending":
        time.sleep(0.05)
    conn = sandbox.connections()["ipaper"]  # one call per 10 vendor s (0.2 s at the sandbox's speed)
    extra = {**conn["extra"], "pacing_scope": "process", "rate_limit": "1/10"}
    monkeypatch.setenv("AIRFLOW_CONN_IPAPER_ONE_SLOT", json.dumps({**conn, "extra": extra}))

    async def scenario() -> dict[str, Any]:
        hook = await ahook_for("ipaper_one_slot")
        status = hook.acall(hook.conversion_status, paper, job, summary=True)
        return dict(await asyncio.wait_for(status, 20))

    before = len(sandbox.requests("ipaper"))
    status = asyncio.run(scenario())
    assert status["state"] == "success" and status["publication"]["publication_id"] == paper
    assert ipaper_calls(sandbox, before) == ["GetProcessingStatus", "GetPaperStructure"]


def test_the_pages_digest_keeps_its_text():
    """Upload markers of waits in flight (``queued@<time>/<digest>``) carry this digest: computed
    another way, an unchanged paper would read as processed. Pinned to the value of the first
    implementation (an XPath per page)."""
    from lxml import etree

    structure = etree.fromstring(
        b'<data><paper id="1120" name="D" url="/d/"><pages>'
        b'<page id="58367" number="1" part-of-index="False"><images>'
        b'<image file-size="300" type="Zoom" url="u"/><image file-size="90" type="Normal" url="u"/>'
        b'<image file-size="6" type="Thumb" url="u"/></images></page>'
        b'<page id="58368" number="2"><images><image type="Zoom" url="u"/></images></page>'
        b'<page id="58369"/>'
        b"</pages></paper></data>"
    )
    assert IPaperHook()._pages_digest(structure) == "2c326064c7b920cc"
