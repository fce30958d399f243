"""Creating calls off the operators' paths, when the vendor acts and its answer is lost (sandbox fault
``lost_answer``): never sent twice (counted on what the sandbox holds: a request whose answer never
came may be logged late). A call with a natural key adopts what was made; one without
(``folder.copy``) fails saying the vendor may have done it."""

from __future__ import annotations

import time

import pytest

from airflow_provider_flipbook.exceptions import OutcomeUnknownError
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook, page_widgets

LOST_AS = ("502", "504", "cut", "timeout")


@pytest.mark.parametrize("lost_as", LOST_AS)
def test_an_ipaper_media_directory_is_created_once(sandbox, fast, lost_as):
    hook = IPaperHook(fast["ipaper"])
    hook.create_media_directory(0, "Reports")  # a namesake elsewhere is not ours
    sandbox.fault("ipaper", kind="lost_answer", route="CreateDirectory", lost_as=lost_as)

    parent = hook.create_media_directory(0, "Data")
    child = hook.create_media_directory(parent, "Reports")

    directories = sandbox.state_store.vendors["ipaper"].state.media.values()
    assert sorted((d["name"], d["parent"]) for d in directories if d["id"] != 0) == sorted(
        [("Reports", 0), ("Data", 0), ("Reports", parent)]
    )
    assert {d["id"] for d in directories} >= {parent, child}
    assert not sandbox.state_store.faults, "the fault was never hit"


@pytest.mark.parametrize("kind", ["paragraph", "heading"])
@pytest.mark.parametrize("lost_as", LOST_AS)
def test_a_papyrs_widget_is_created_once(sandbox, fast, kind, lost_as):
    hook = PapyrsHook(fast["papyrs"])
    page = hook.create_page("Widgets", [[{"classname": "Paragraph", "val": "already there"}]])
    sandbox.fault("papyrs", kind="lost_answer", route=f"{kind}/create", lost_as=lost_as)

    widget = hook.create_widget(page["id"], kind, "Hello")

    widgets = page_widgets(hook.get_page(page["id"]))
    assert [w["text"] for w in widgets] == ["already there", "Hello"]
    assert widget["id"] == widgets[-1]["id"]
    assert not sandbox.state_store.faults


@pytest.mark.parametrize("lost_as", LOST_AS)
def test_a_papyrs_folder_copy_is_not_resent_after_its_answer_is_lost(sandbox, fast, lost_as):
    hook = PapyrsHook(fast["papyrs"])
    hook.create_page("Policy", category="Source")
    sandbox.fault("papyrs", kind="lost_answer", route="folder/copy", lost_as=lost_as)

    with pytest.raises(OutcomeUnknownError, match="folder.copy.*may have done it"):
        hook.copy_folder(source={"copy_path": "Source"}, target={"target_path": "Target"})

    assert [p["category"] for p in hook.list_pages()].count("Target/Source") == 1


@pytest.mark.parametrize("lost_as", LOST_AS)
def test_an_ipaper_reprocess_is_queued_once(sandbox, fast, samples, lost_as):
    """iPaper queued the job and the answer was lost: the job (or, once it ran, the paper's new pages)
    is the trace of the call, adopted instead of queueing a second job."""
    hook = IPaperHook(fast["ipaper"])
    paper = hook.create_paper(hook.root_paper_id, "Reprocessed", "reprocessed")
    converted = hook.process_pdf(paper, lambda: samples["small"].open("rb"))
    for _ in range(200):  # the sandbox converts 4 pages in a few hundredths of a second
        if hook.conversion_status(paper, converted, summary=False)["state"] != "running":
            break
        time.sleep(0.02)
    sandbox.fault("ipaper", kind="lost_answer", route="ReprocessPaper", lost_as=lost_as)

    version = hook.reprocess_paper(paper)

    jobs = [job for job in sandbox.state_store.vendors["ipaper"].state.jobs.values() if job["paper"] == paper]
    assert len(jobs) == 2, "the paper was reprocessed twice"  # its first processing, one reprocess
    assert not sandbox.state_store.faults, "the fault was never hit"
    for _ in range(200):
        status = hook.conversion_status(paper, version, summary=False)
        if status["state"] != "running":
            break
        time.sleep(0.02)
    assert status["state"] == "success", status  # the version returned follows the adopted job
