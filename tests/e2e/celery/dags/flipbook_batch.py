"""A batch for `make e2e-celery`: ``count`` mapped FlippingBook uploads and ``count`` Papyrs pages
(default 40 each), spread over every Celery worker, all on one credential per vendor.

Kept outside ``dags/``: scripts/e2e_celery.py copies it into the DAGs folder of its run. Nothing here
paces: the connections' ``redis`` pacing scope must keep every host under the vendors' limits.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator

SAMPLES = os.environ.get(
    "FLIPBOOK_SAMPLES", os.path.join(os.path.dirname(__file__), "..", ".demo", "samples")
)


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["flipbook", "e2e"],
    max_active_tasks=64,
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=5)},
    params={
        "count": Param(40, type="integer", minimum=1),
        "pdf": Param(os.path.join(SAMPLES, "annual-report.pdf"), type="string"),
    },
)
def flipbook_batch():
    @task
    def uploads(**context) -> list[dict]:
        params = context["params"]
        return [{"pdf": params["pdf"], "name": f"Batch upload {n:03d}"} for n in range(params["count"])]

    @task
    def titles(**context) -> list[str]:
        return [f"Batch page {n:03d}" for n in range(context["params"]["count"])]

    UploadPdfOperator.partial(task_id="upload", conn_id="flippingbook_default").expand_kwargs(uploads())
    PapyrsMarkdownPageOperator.partial(
        task_id="papyrs_page",
        markdown="# Batch\n\nOne of many pages written by the e2e-celery batch.",
    ).expand(title=titles())


flipbook_batch()
