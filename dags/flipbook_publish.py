"""Publish a PDF: FlippingBook flipbook, one tracked link per recipient, and an intranet announcement.

upload (FlippingBook) -> wait for conversion (deferrable) -> tracked links (mapped over recipients)
-> Papyrs page announcing the flipbook and its links.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.retry import vendor_retry_policy_args
from airflow_provider_flipbook.sensors import PdfConversionSensor

SAMPLES = os.environ.get(
    "FLIPBOOK_SAMPLES", os.path.join(os.path.dirname(__file__), "..", ".demo", "samples")
)


DOC_MD = """
### Publish a PDF as a flipbook and announce it

**What it does:** uploads the PDF to FlippingBook Online (`upload_pdf`), waits in the triggerer for
the conversion (`wait_for_conversion`), creates one tracked link per recipient (`tracked_link`, one
mapped task each; an existing active link of the same title is reused) and writes a Papyrs page
with the flipbook and its links (`announce_on_intranet`; a page of the same title in the folder is
replaced). Manual runs only (`schedule=None`).

**What you get:** "View flipbook" on `upload_pdf` and on each tracked link, "Open page" on the
Papyrs task; the ids and URLs in each task's XCom and log.

**Set before the first run:**

* Connections `flippingbook_default` (type FlippingBook Online: the API key as password) and
  `papyrs_default` (type Papyrs: the site URL `https://<site>.papyrs.com` as host, the API token as
  password). Every extra may stay empty; the README lists them with their defaults.
* Pools `flippingbook` and `papyrs` (e.g. `airflow pools set flippingbook 2 "one FlippingBook key"`):
  they cap the calls made with one credential at once.
* Params at trigger time: `pdf` (a path, `s3://`/`gs://`/`file://` URI or http(s) URL; PDFs over
  about 750 KB must be a URL FlippingBook can fetch), `title`, `recipients`.

Try it on the sandbox first: `make standalone` sets up all of this.
"""


@dag(
    description="Publish a PDF on FlippingBook, send one tracked link per recipient, announce it on Papyrs",
    doc_md=DOC_MD,
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
