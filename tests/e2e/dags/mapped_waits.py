"""The account poll under a real triggerer (tests/e2e/test_standalone.py): a mapped upload of many
PDFs to one FlippingBook account, each waiting for its conversion in the triggerer."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import dag

from airflow_provider_flipbook.operators import UploadPdfOperator

SAMPLES = os.environ.get("FLIPBOOK_SAMPLES", "")
WAITS = 100  # tests/e2e/test_standalone.py reads both
POLL_INTERVAL = 2.0


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["flipbook", "e2e"],
    description="Account poll check: a mapped upload whose waits share one poll of the account",
)
def mapped_waits():
    UploadPdfOperator.partial(
        task_id="upload",
        conn_id="flippingbook_default",
        pdf=os.path.join(SAMPLES, "annual-report.pdf"),
        wait_for_conversion=True,
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        conversion_timeout=900,
    ).expand(name=[f"Mapped wait {n}" for n in range(WAITS)])


mapped_waits()
