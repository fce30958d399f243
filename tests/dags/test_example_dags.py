"""Every example DAG runs green with dag.test() against the sandbox."""

import threading
import time
from pathlib import Path

import pytest

from airflow_provider_flipbook.vendors import VENDORS

DAGS = Path(__file__).resolve().parents[2] / "dags"
POOLS = tuple(VENDORS)  # the example DAGs use one pool per vendor


@pytest.fixture(scope="module")
def airflow_db(tmp_path_factory):
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.resetdb()
    for pool in POOLS:
        Pool.create_or_update_pool(pool, slots=4, description=f"{pool} credential", include_deferred=False)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory, monkeypatch_module):
    from airflow_provider_flipbook.sandbox.samples import write_samples

    root = tmp_path_factory.mktemp("demo")
    write_samples(root / "samples")
    return root


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def dag(dag_id):
    from tests.conftest import dag_bag

    return dag_bag(DAGS).dags[dag_id]


def run(dag_id, **conf):
    run = dag(dag_id).test(run_conf=conf or None)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    return run


def test_flipbook_publish(flipbook_sandbox, airflow_db, demo_files):
    before = flipbook_sandbox.state()
    run("flipbook_publish", pdf=str(demo_files / "samples" / "annual-report.pdf"))
    after = flipbook_sandbox.state()
    assert after["flippingbook"]["publications"] == before["flippingbook"]["publications"] + 1
    assert after["flippingbook"]["tracked_links"] == before["flippingbook"]["tracked_links"] + 3
    assert after["papyrs"]["pages"] >= 1


def test_catalog_nightly_refresh(flipbook_sandbox, airflow_db, demo_files, monkeypatch):
    # dag.test() cannot run a DAG with a deadline alert (see the DAG file); tests/notifications test it.
    monkeypatch.setenv("FLIPBOOK_DEADLINE_ALERT", "off")
    archive = demo_files / "archive"
    # The first night the new Flipsnack collection still converts when its package is asked for: the
    # vendor answers code 38 ("Collection is in processing state"), which must mean "not yet".
    flipsnack = flipbook_sandbox.state_store.vendors["flipsnack"].state
    busy = flipsnack.answered[38]
    # The collection converts until its package has been asked for once (however slow this Airflow
    # is to get there), then finishes; if the DAG never asks while it converts, the check below fails.
    monkeypatch.setitem(flipsnack.options, "conversion_seconds", 10**6)

    def finish_after_the_first_refusal() -> None:
        deadline = time.monotonic() + 120
        while flipsnack.answered[38] == busy and time.monotonic() < deadline:
            time.sleep(0.05)
        flipsnack.options["conversion_seconds"] = 0

    threading.Thread(target=finish_after_the_first_refusal, daemon=True).start()
    run(
        "catalog_nightly_refresh",
        catalog_folder=str(demo_files / "samples" / "catalogue"),
        archive_folder=str(archive),
    )
    assert list(archive.glob("*/*.zip"))
    assert flipsnack.answered[38] > busy  # the first night did meet a collection still processing
    papers = flipbook_sandbox.state()["ipaper"]["papers"]
    run(
        "catalog_nightly_refresh",
        catalog_folder=str(demo_files / "samples" / "catalogue"),
        archive_folder=str(archive),
    )
    assert flipbook_sandbox.state()["ipaper"]["papers"] == papers  # a rerun adds versions, not papers


def test_report_to_intranet(flipbook_sandbox, airflow_db, demo_files, monkeypatch):
    import airflow_provider_flipbook  # noqa: F401

    run("report_to_intranet")
    pages = flipbook_sandbox.state_store.vendors["papyrs"].state.pages.values()
    report = next(p for p in pages if p["title"] == "Publishing statistics")
    assert any(w["classname"] == "Attachment" for column in report["json"] for w in column)
    assert flipbook_sandbox.state()["papyrs"]["discussion_posts"] >= 1


def test_flipbook_on_converted_by_hand(flipbook_sandbox, airflow_db, demo_files):
    """The event DAG's tasks (links, announcement) on a manual run; the event path itself runs under the
    real scheduler and triggerer in tests/e2e."""
    import base64

    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

    data = base64.b64encode((demo_files / "samples" / "annual-report.pdf").read_bytes()).decode()
    publication = FlippingBookHook().create_publication(name="Event DAG", data=data, filename="a.pdf")
    links = flipbook_sandbox.state()["flippingbook"]["tracked_links"]
    run("flipbook_on_converted", publication_ids=[publication["id"]])
    assert flipbook_sandbox.state()["flippingbook"]["tracked_links"] == links + 1
    pages = flipbook_sandbox.state_store.vendors["papyrs"].state.pages.values()
    assert any(p["title"] == "Converted flipbooks" for p in pages)
