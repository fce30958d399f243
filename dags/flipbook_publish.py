"""Publish a PDF: FlippingBook flipbook, one tracked link per recipient, and an intranet announcement.

upload (FlippingBook) -> wait for conversion (deferrable) -> tracked links (mapped over recipients)
-> Papyrs page announcing the flipbook and its links.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_flipbook.operators import (
    CreateTrackedLinkOperator,
    PapyrsMarkdownPageOperator,
    UploadPdfOperator,
)
from airflow_provider_flipbook.retry import vendor_retry_policy_args
from airflow_provider_flipbook.sensors import PdfConversionSensor

SAMPLES = os.environ.get(
    "FLIPBOOK_SAMPLES", os.path.join(os.path.dirname(__file__), "..", ".demo", "samples")
)


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["flipbook", "example"],
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=5), **vendor_retry_policy_args()},
    params={
        "pdf": Param(
            os.path.join(SAMPLES, "annual-report.pdf"),
            type="string",
            description="Local path, URI (s3://, gs://, file://) or http(s) URL of the PDF",
        ),
        "title": Param("Annual report 2026", type="string"),
        "recipients": Param(["ACME procurement", "Board of directors", "Press office"], type="array"),
    },
)
def flipbook_publish():
    upload = UploadPdfOperator(
        task_id="upload_pdf",
        conn_id="flippingbook_default",
        pdf="{{ params.pdf }}",
        name="{{ params.title }}",
        description="Published by Airflow run {{ run_id }}",
        pool="flippingbook",
    )
    converted = PdfConversionSensor(
        task_id="wait_for_conversion",
        conn_id="flippingbook_default",
        upload=upload.output,
        deferrable=True,
        poke_interval=5,
        timeout=3600,
    )

    @task
    def recipients(**context) -> list[str]:
        return list(context["params"]["recipients"])

    links = CreateTrackedLinkOperator.partial(
        task_id="tracked_link",
        publication=upload.output,
        notification_type="Email",
        notify_on_first_view=True,
        pool="flippingbook",
    ).expand(title=recipients())

    @task
    def announcement(publication: dict, links: list[dict], **context) -> str:
        rows = "\n".join(f"| {link['title']} | <{link['url']}> |" for link in links)
        return (
            f"# {context['params']['title']}\n\n"
            f"The new flipbook is online: <{publication['url']}> ({publication['total_pages']} pages).\n\n"
            f"## Personal links\n\n| Recipient | Link |\n|---|---|\n{rows}\n"
        )

    page = PapyrsMarkdownPageOperator(
        task_id="announce_on_intranet",
        title="New flipbook: {{ params.title }}",
        markdown=announcement(converted.output, links.output),
        folder="Announcements",
        if_exists="replace",
        pool="papyrs",
    )
    converted >> links
    return page


flipbook_publish()
