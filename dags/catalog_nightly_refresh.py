"""Nightly catalogue refresh: every PDF changed since the last successful run gets a new version on
FlippingBook and iPaper; then the Flipsnack HTML package of the catalogue is archived.

Assets let downstream DAGs run on the refresh (``schedule=CATALOGUE_FLIPBOOKS``). They use the
provider's registered schemes (``flippingbook://``, ``ipaper://``; see the README's "Assets and
lineage"), so a lineage backend sees them; they name the catalogue as a group, by the production API
hosts. The uploads themselves report each publication they create (hook-level lineage, OpenLineage).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task

from airflow_provider_flipbook._compat import deadline_alert
from airflow_provider_flipbook.notifications.papyrs import PapyrsNotifier
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.retry import vendor_retry_policy_args
from airflow_provider_flipbook.sensors import PdfConversionSensor
from airflow_provider_flipbook.sensors.flipsnack import FlipsnackDownloadPackageSensor
from airflow_provider_flipbook.utils.files import storage_path

SAMPLES = os.environ.get(
    "FLIPBOOK_SAMPLES", os.path.join(os.path.dirname(__file__), "..", ".demo", "samples")
)
ARCHIVE = os.environ.get(
    "FLIPBOOK_ARCHIVE", os.path.join(os.path.dirname(__file__), "..", ".demo", "archive")
)
CATALOGUE_ON_FLIPPINGBOOK = Asset("flippingbook://api-tc.is.flippingbook.com/folder/Catalogue")
CATALOGUE_ON_IPAPER = Asset("ipaper://ipaper.api.ipapercms.dk/category/catalogue")
CATALOGUE_FLIPBOOKS = CATALOGUE_ON_FLIPPINGBOOK | CATALOGUE_ON_IPAPER
CATALOGUE_PACKAGE = Asset("file://" + os.path.abspath(ARCHIVE))
# The intranet page (with a Discussion) where failures and a late catalogue are reported.
STATUS_PAGE = os.environ.get("FLIPBOOK_STATUS_PAGE", "Publishing status")
# "The catalogue is live by 06:00": 4 hours after the 02:00 logical date, else the triggerer posts on
# the status page (async). None where Airflow has no deadline alerts. `airflow dags test` and
# `dag.test()` cannot run a DAG with one on Airflow 3.1.2 to 3.3.2 (once the run succeeds they look
# the alert up by its definition instead of its id): the demo and the DAG tests set
# FLIPBOOK_DEADLINE_ALERT=off; the scheduler runs it.
CATALOGUE_LIVE_BY_06 = (
    deadline_alert(
        reference="DAGRUN_LOGICAL_DATE",
        interval=timedelta(hours=4),  # a plain timedelta: Airflow serializes no pendulum Duration here
        callback=PapyrsNotifier,
        kwargs={
            "page": STATUS_PAGE,
            "message": "The catalogue is not live by 06:00: run {{ dag_run.dag_run_id }} is still going.",
        },
    )
    if os.environ.get("FLIPBOOK_DEADLINE_ALERT", "on") != "off"
    else None
)


DOC_MD = """
### Nightly catalogue refresh

**What it does:** lists the PDFs in `catalog_folder` changed since the last successful run (all of
them the first time); adds each as a new version of its FlippingBook publication (found by name,
created if missing) and of its iPaper paper (found by URL name under `ipaper_category`, created if
missing); waits for every conversion in the triggerer; then downloads the HTML package of the
Flipsnack collection "Catalogue" (created from the first PDF if missing) into `archive_folder`, one
folder per day. Runs at 02:00 UTC.

**What you get:** "View flipbook" on each upload task (iPaper: only with the connection extra
`viewer_base_url` set, since iPaper's API gives a paper's path only); the assets
`flippingbook://.../folder/Catalogue` and `ipaper://.../category/catalogue` update when the
conversions finish (`report_to_intranet` runs on them), and the archive folder's `file://` asset
when the package is saved.

**Set before the first run:**

* Connections `flippingbook_default`, `ipaper_default` (login `APIKey` and the API key as password,
  or a user's e-mail and password; extra `viewer_base_url` for links) and `flipsnack_default` (API
  key as login, API secret as password; with a host other than Flipsnack's, also `upload_host`).
* Pools `flippingbook`, `ipaper` and `flipsnack`.
* A Papyrs page titled "Publishing status" (or `FLIPBOOK_STATUS_PAGE`) with a Discussion, and
  `papyrs_default`: a failed task, and a catalogue not live by 06:00 (a deadline alert), post there
  once per run.
* Params: `catalog_folder` (a folder or URI of PDFs), `archive_folder`, `ipaper_category` (empty:
  the account's root category). Each Flipsnack upload uses one of the account's monthly API uploads.
"""


@dag(
    description="Nightly: new FlippingBook and iPaper versions of the changed catalogue PDFs; archive the Flipsnack HTML package",
    doc_md=DOC_MD,
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["flipbook", "example"],
    default_args={
        "retries": 2,
        "retry_delay": pendulum.duration(seconds=10),
        **vendor_retry_policy_args(),
        # One post per run however many mapped uploads fail (the notifier claims the run).
        "on_failure_callback": PapyrsNotifier(
            page=STATUS_PAGE,
            message="Catalogue refresh {{ run_id }}: {{ ti.task_id }} failed after its retries.",
        ),
    },
    deadline=CATALOGUE_LIVE_BY_06,
    params={
        "catalog_folder": Param(
            os.path.join(SAMPLES, "catalogue"),
            type="string",
            description="Folder (path or URI such as s3://bucket/catalogue) of catalogue PDFs",
        ),
        "archive_folder": Param(ARCHIVE, type="string", description="Where the HTML packages are archived"),
        "ipaper_category": Param(
            None,
            type=["null", "integer"],
            description="iPaper category of the catalogue papers (empty: the account's root)",
        ),
    },
)
def catalog_nightly_refresh():
    @task
    def changed_pdfs(**context) -> list[dict]:
        """The catalogue's PDFs modified since the last successful run (all of them the first time)."""
        folder = context["params"]["catalog_folder"]
        root = storage_path(folder)
        since = context.get("prev_start_date_success")
        since = pendulum.instance(since) if since else None  # a lazy proxy: resolve it once
        changed = []
        for path in sorted(root.glob("*.pdf")):
            modified = pendulum.instance(path.fs.modified(path.path))
            if since is None or modified > since:
                changed.append(
                    {"pdf": str(path), "name": path.stem.replace("-", " ").title(), "url_name": path.stem}
                )
        logging.getLogger(__name__).info("%s changed PDF(s) since %s", len(changed), since)
        return changed

    @task(pool="flippingbook")
    def flippingbook_targets(pdfs: list[dict]) -> list[dict]:
        """Each PDF's existing FlippingBook publication (by name), so a refresh adds a version."""
        from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

        hook = FlippingBookHook()
        targets = []
        for pdf in pdfs:
            found = next(
                (p["id"] for p in hook.iter_publications(query=pdf["name"]) if p["name"] == pdf["name"]), None
            )
            targets.append({"pdf": pdf["pdf"], "name": pdf["name"], "publication_id": found})
        return targets

    @task
    def ipaper_targets(pdfs: list[dict]) -> list[dict]:
        # iPaper papers are found by their URL name, so creating and re-versioning are the same call.
        return [{"pdf": p["pdf"], "name": p["name"], "url_name": p["url_name"]} for p in pdfs]

    pdfs = changed_pdfs()
    fb_uploads = UploadPdfOperator.partial(
        task_id="flippingbook_version",
        conn_id="flippingbook_default",
        pool="flippingbook",
    ).expand_kwargs(flippingbook_targets(pdfs))
    ip_uploads = UploadPdfOperator.partial(
        task_id="ipaper_version",
        conn_id="ipaper_default",
        parent_category_id="{{ params.ipaper_category }}",
        pool="ipaper",
    ).expand_kwargs(ipaper_targets(pdfs))
    fb_done = PdfConversionSensor.partial(
        task_id="wait_flippingbook",
        conn_id="flippingbook_default",
        deferrable=True,
        poke_interval=5,
        timeout=3 * 3600,
        outlets=[CATALOGUE_ON_FLIPPINGBOOK],
    ).expand(upload=fb_uploads.output)
    ip_done = PdfConversionSensor.partial(
        task_id="wait_ipaper",
        conn_id="ipaper_default",
        deferrable=True,
        poke_interval=5,
        timeout=3 * 3600,
        outlets=[CATALOGUE_ON_IPAPER],
    ).expand(upload=ip_uploads.output)

    @task(pool="flipsnack")
    def flipsnack_collection(**context) -> str:
        """The catalogue's Flipsnack collection, created from the first catalogue PDF if there is none yet."""
        from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook

        hook = FlipsnackHook()
        found = next(
            (
                c["collectionHash"]
                for c in hook.iter_collections(query="Catalogue")
                if c.get("collectionTitle") == "Catalogue"
            ),
            None,
        )
        if found:
            return found
        folder = context["params"]["catalog_folder"]
        first = sorted(storage_path(folder).glob("*.pdf"))[0]
        return hook.create_collection(
            open_file=lambda: first.open("rb"), filename=first.name, title="Catalogue"
        )["collectionHash"]

    package = FlipsnackDownloadPackageSensor(
        task_id="archive_html_package",
        collection_hash=flipsnack_collection(),
        destination="{{ params.archive_folder }}/{{ dag_run.run_after.strftime('%Y-%m-%d') }}/",
        deferrable=True,
        poke_interval=5,
        timeout=3600,
        outlets=[CATALOGUE_PACKAGE],
        trigger_rule="none_failed",  # archive every night, also when no PDF changed
    )
    [fb_done, ip_done] >> package


catalog_nightly_refresh()
