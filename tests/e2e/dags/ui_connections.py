"""The browser check's DAG (tests/e2e/browser.py): one upload per flipbook vendor and one Papyrs page,
each through a connection made in the UI's Add form with every extra left empty (``ui_<type>``).
Uploads wait for the conversion in the triggerer, so the deferrable path is what the UI shows."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import dag

from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator

SAMPLES = os.environ.get("FLIPBOOK_SAMPLES", "")
VENDORS = ("flippingbook", "ipaper", "flipsnack")


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["flipbook", "e2e"],
    description="Browser check: the connections made in the UI's Add form, used by real tasks",
)
def ui_connections():
    for vendor in VENDORS:
        UploadPdfOperator(
            task_id=f"upload_{vendor}",
            conn_id=f"ui_{vendor}",
            pdf=os.path.join(SAMPLES, "annual-report.pdf"),
            name=f"ui-test-{vendor}",
            wait_for_conversion=True,
            deferrable=True,
            poll_interval=2,
        )
    PapyrsMarkdownPageOperator(
        task_id="papyrs_page",
        papyrs_conn_id="ui_papyrs",
        title="UI test page",
        markdown="Made by the browser check.",
        if_exists="replace",
    )


ui_connections()
