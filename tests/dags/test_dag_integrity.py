"""Every file in dags/ imports cleanly, defines a DAG, fetches no connection and imports nothing heavy."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import dag_bag

DAGS = Path(__file__).resolve().parents[2] / "dags"
FILES = sorted(DAGS.glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_dag_file_imports_and_defines_a_dag(path, monkeypatch):
    from airflow.sdk import BaseHook

    def no_connections(*args, **kwargs):
        raise AssertionError(f"{path.name} fetched a connection while being parsed")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(no_connections))
    bag = dag_bag(path)
    assert bag.import_errors == {}
    assert len(bag.dag_ids) >= 1
    assert not bag.captured_warnings  # no deprecated import paths


def test_all_example_dags_exist():
    assert set(dag_bag(DAGS).dag_ids) == {
        "flipbook_publish",
        "catalog_nightly_refresh",
        "report_to_intranet",
        "flipbook_on_converted",
        "flipbook_on_webhook",
    }


def test_parsing_imports_nothing_heavy():
    # Measured over what ``import airflow.sdk`` loads by itself (on 3.1 that includes fastapi).
    code = (
        "import sys, runpy, glob, airflow.sdk\n"
        "before = set(sys.modules)\n"
        "for f in sorted(glob.glob(sys.argv[1] + '/*.py')): runpy.run_path(f)\n"
        "heavy = [m for m in ('lxml', 'pypdf', 'requests_toolbelt', 'fastapi', 'uvicorn')\n"
        "         if m in sys.modules and m not in before]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(DAGS)], capture_output=True, text=True, check=True
    )
    assert [line for line in result.stdout.splitlines() if line.startswith("HEAVY=")] == ["HEAVY="]


def test_conn_ids_and_inputs_are_templated():
    from airflow_provider_flipbook.operators import UploadPdfOperator
    from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
    from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
    from airflow_provider_flipbook.sensors import PdfConversionSensor
    from airflow_provider_flipbook.sensors.flipsnack import FlipsnackDownloadPackageSensor

    assert {"conn_id", "pdf", "name", "publication_id"} <= set(UploadPdfOperator.template_fields)
    assert {"flippingbook_conn_id", "publication", "title"} <= set(CreateTrackedLinkOperator.template_fields)
    assert {"papyrs_conn_id", "title", "markdown"} <= set(PapyrsMarkdownPageOperator.template_fields)
    assert {"conn_id", "upload"} <= set(PdfConversionSensor.template_fields)
    assert {"flipsnack_conn_id", "collection_hash", "destination"} <= set(
        FlipsnackDownloadPackageSensor.template_fields
    )
    assert "pdf_password" not in UploadPdfOperator.template_fields  # secrets are never rendered


def test_each_dag_says_what_it_does_and_what_to_set():
    """The Details tab is a new user's first stop: a description, and docs naming every connection and
    pool the tasks use (so the list cannot fall behind the code)."""
    for dag_id, dag in dag_bag(DAGS).dags.items():
        assert dag.description and dag.doc_md, f"{dag_id} has no description or doc_md"
        assert "What it does" in dag.doc_md and "Set before the first run" in dag.doc_md, dag_id
        for task in dag.tasks:
            settings = {**vars(task), **(getattr(task, "partial_kwargs", None) or {})}
            conn_ids = {v for k, v in settings.items() if k.endswith("conn_id") and isinstance(v, str)}
            for name in {*conn_ids, task.pool} - {"default_pool"}:
                assert f"`{name}`" in dag.doc_md, (
                    f"{dag_id}: {task.task_id} uses {name!r}, its docs do not say so"
                )
