"""What the operators declare: hook-level lineage and OpenLineage facets, against the sandbox over HTTP."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.utils.lineage import source_uri
from tests.conftest import ROOT

needs_openlineage = pytest.mark.skipif(
    importlib.util.find_spec("airflow.providers.openlineage") is None,
    reason="the openlineage extra is not installed (it needs Python 3.11+)",
)
KIND = {"flippingbook": "publication", "ipaper": "paper", "flipsnack": "collection"}


def host(sandbox):
    return sandbox.url.split("://", 1)[1].rstrip("/")


def names(datasets):
    return [(d.namespace, d.name) for d in datasets]


def lifecycle(dataset):
    facet = dataset.facets.get("lifecycleStateChange")
    return facet and facet.lifecycleStateChange.value


@pytest.mark.parametrize(
    ("location", "uri"),
    [
        ("s3://aws_default@bucket/catalogue/a.pdf", "s3://bucket/catalogue/a.pdf"),
        ("https://user:pw@files.example.com/a.pdf?X-Amz-Signature=abc", "https://files.example.com/a.pdf"),
        ("/data/a.pdf", "file:///data/a.pdf"),
        ("# Heading\n\ntext", None),
        (None, None),
    ],
)
def test_sources_are_named_without_credentials(location, uri):
    assert source_uri(location) == uri


@needs_openlineage
@pytest.mark.parametrize("vendor", ["flippingbook", "ipaper", "flipsnack"])
def test_upload_declares_the_pdf_and_the_new_publication(sandbox, samples, context, vendor):
    operator = UploadPdfOperator(
        task_id="upload", conn_id=f"{vendor}_default", pdf=str(samples["small"]), name=f"Lineage {vendor}"
    )
    result = operator.execute(context)
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert names(lineage.inputs) == [("file", str(samples["small"]))]
    [output] = lineage.outputs
    assert (output.namespace, output.name) == (
        f"{vendor}://{host(sandbox)}",
        f"/{KIND[vendor]}/{result['publication_id']}",
    )
    assert lifecycle(output) == "CREATE"
    [link] = output.facets["symlinks"].identifiers
    assert f"{link.namespace}{link.name}" == result["url"].split("?")[0] and link.type == "URL"
    query = lineage.run_facets["externalQuery"]
    assert query.externalQueryId == str(result["version_id"] or result["publication_id"])
    assert query.source == output.namespace


@needs_openlineage
def test_a_new_version_is_an_overwrite_of_the_same_publication(sandbox, samples, context):
    first = UploadPdfOperator(task_id="a", conn_id="flippingbook_default", pdf=str(samples["small"]))
    created = first.execute(context)
    second = UploadPdfOperator(
        task_id="b",
        conn_id="flippingbook_default",
        pdf=str(samples["three"]),
        publication_id=created["publication_id"],
    )
    second.execute({"ti": context["ti"]})
    [before] = first.get_openlineage_facets_on_complete(None).outputs
    [after] = second.get_openlineage_facets_on_complete(None).outputs
    assert after.name == before.name and lifecycle(after) == "OVERWRITE"


@needs_openlineage
def test_ipaper_reusing_a_paper_by_its_url_is_an_overwrite(sandbox, samples, context):
    def upload():
        operator = UploadPdfOperator(
            task_id="u",
            conn_id="ipaper_default",
            pdf=str(samples["small"]),
            url_name="same-paper",
            poll_interval=0.05,  # the second waits for the first's job: iPaper runs one per paper
        )
        operator.execute({"ti": context["ti"]})
        return operator.get_openlineage_facets_on_complete(None).outputs[0]

    first = upload()
    second = upload()
    assert (lifecycle(first), lifecycle(second)) == ("CREATE", "OVERWRITE") and first.name == second.name


@needs_openlineage
def test_a_deferred_upload_declares_in_the_resumed_process(sandbox, samples, context):
    """execute_complete runs in a new process, on a fresh operator: it declares from the event alone."""
    import asyncio

    from airflow_provider_flipbook._compat import TaskDeferred

    def operator():
        return UploadPdfOperator(
            task_id="d",
            conn_id="flipsnack_default",
            pdf=str(samples["three"]),
            wait_for_conversion=True,
            deferrable=True,
            poll_interval=0.05,
        )

    with pytest.raises(TaskDeferred) as deferred:
        operator().execute(context)

    async def first_event():
        return [event async for event in deferred.value.trigger.run()][0]

    event = asyncio.run(first_event())
    resumed = operator()
    result = resumed.execute_complete(context, event=event.payload)
    [output] = resumed.get_openlineage_facets_on_complete(None).outputs
    assert output.name == f"/collection/{result['publication_id']}" and lifecycle(output) == "CREATE"


@needs_openlineage
def test_tracked_links_read_the_publication_and_a_reused_link_writes_nothing(sandbox, samples, context):
    upload = UploadPdfOperator(task_id="u", conn_id="flippingbook_default", pdf=str(samples["small"]))
    publication = upload.execute(context)
    [publication_dataset] = upload.get_openlineage_facets_on_complete(None).outputs

    def link():
        operator = CreateTrackedLinkOperator(task_id="l", publication=publication, title="Board")
        result = operator.execute({"ti": context["ti"]})
        return result, operator.get_openlineage_facets_on_complete(None)

    first, lineage = link()
    assert names(lineage.inputs) == [(publication_dataset.namespace, publication_dataset.name)]
    [output] = lineage.outputs
    assert output.name == f"/tracked-link/{first['link_id']}" and lifecycle(output) == "CREATE"
    second, again = link()
    assert second["reused"] and lifecycle(again.outputs[0]) is None


@needs_openlineage
def test_a_replaced_page_is_an_overwrite_naming_the_page_it_dropped(sandbox, tmp_path, context):
    report = tmp_path / "weekly.md"
    report.write_text("# Weekly\n\nAll good.\n")
    csv = tmp_path / "stats.csv"
    csv.write_text("a,b\n1,2\n")

    def publish():
        operator = PapyrsMarkdownPageOperator(
            task_id="p",
            title="Weekly",
            markdown=str(report),
            attachments=[str(csv)],
            if_exists="replace",
        )
        result = operator.execute({"ti": context["ti"]})
        return result, operator.get_openlineage_facets_on_complete(None)

    first, lineage = publish()
    namespace = f"papyrs://{host(sandbox)}"
    assert names(lineage.inputs) == [("file", str(report)), ("file", str(csv))]
    assert names(lineage.outputs) == [(namespace, f"/@home/page/{first['page_id']}")]
    assert lifecycle(lineage.outputs[0]) == "CREATE"
    second, lineage = publish()
    assert second["replaced"] == [first["page_id"]]
    new, dropped = lineage.outputs
    assert (new.name, dropped.name) == (f"/@home/page/{second['page_id']}", f"/@home/page/{first['page_id']}")
    assert (lifecycle(new), lifecycle(dropped)) == ("OVERWRITE", "DROP")
    previous = new.facets["lifecycleStateChange"].previousIdentifier
    assert (previous.namespace, previous.name) == (namespace, dropped.name)


def test_inline_markdown_has_no_input_and_a_failed_run_declares_nothing(sandbox, context):
    operator = PapyrsMarkdownPageOperator(task_id="p", title="Inline", markdown="# Inline\n\ntext")
    assert operator._lineage is None  # nothing before execute: OpenLineage gets an empty lineage
    operator.execute({"ti": context["ti"]})
    assert operator._lineage["inputs"] == [] and operator._lineage["lifecycle"] == "CREATE"


def test_without_openlineage_nothing_of_it_is_imported_and_results_are_the_same(flipbook_sandbox, samples):
    """A fresh interpreter where OpenLineage cannot be imported by this provider's code: the operators
    run and declare their hook-level lineage, and never try to import it (Airflow itself may, for the
    installed provider's discovery: that is not ours to block)."""
    script = textwrap.dedent(
        f"""
        import importlib.abc, json, sys

        refused = []
        OPENLINEAGE_MODULES = ("airflow.providers.openlineage", "airflow.providers.common.compat.openlineage")

        class NoOpenLineageForUs(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] != "openlineage" and not name.startswith(OPENLINEAGE_MODULES):
                    return None
                frame = sys._getframe(1)
                while frame and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen")):
                    frame = frame.f_back
                importer = frame.f_globals.get("__name__", "") if frame else ""
                if importer.startswith("airflow_provider_flipbook"):
                    refused.append((importer, name))
                    raise ModuleNotFoundError("OpenLineage is not installed: " + name)
                return None

        sys.meta_path.insert(0, NoOpenLineageForUs())
        from airflow_provider_flipbook.operators import UploadPdfOperator
        from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
        from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator

        upload = UploadPdfOperator(task_id="u", conn_id="flippingbook_default", pdf={str(samples["small"])!r})
        result = upload.execute({{}})
        CreateTrackedLinkOperator(task_id="l", publication=result, title="Press").execute({{}})
        PapyrsMarkdownPageOperator(task_id="p", title="No lineage", markdown="# Hi\\n").execute({{}})
        print(json.dumps({{"publication": result["publication_id"], "refused": refused,
                          "ours": [m for m in sys.modules if m == "airflow_provider_flipbook.utils.openlineage"],
                          "declared": upload._lineage["output"]}}))
        """
    )
    env = {**os.environ, **flipbook_sandbox.env()}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["refused"] == [] and out["ours"] == []
    assert out["publication"] and out["declared"].endswith(f"/publication/{out['publication']}")
