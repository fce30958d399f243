"""Event-driven: react to what happens on FlippingBook's side.

* ``flipbook_on_converted``: scheduled on an asset watched by ``PublicationEventTrigger`` (polling,
  in the triggerer): when a publication converts (first version or a later one), create its tracked
  link for the sales team and announce it on Papyrs.
* ``flipbook_on_webhook``: scheduled on the webhook receiver's asset (FlippingBook POSTs to the API
  server): note every received lead, view or conversion on a Papyrs page.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import Asset, AssetWatcher, Param, dag, task

from airflow_provider_flipbook.events import payload_events
from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.triggers.watchers import PublicationEventTrigger

# Seconds between polls of the publication list (one list call per account per interval, however
# many watchers and waits share the key). The sandbox's e2e run sets it low.
WATCH_INTERVAL = float(os.environ.get("FLIPBOOK_WATCH_INTERVAL", "60"))

CONVERTED = Asset(
    "flippingbook_converted",
    watchers=[
        AssetWatcher(
            name="flippingbook_converted",
            trigger=PublicationEventTrigger(
                conn_id="flippingbook_default", events=["converted", "updated"], poll_interval=WATCH_INTERVAL
            ),
        )
    ],
)
# The receiver of connection flippingbook_default records here (the extra webhook_asset may rename it).
WEBHOOKS = Asset(name="flippingbook_webhooks.flippingbook_default")

DOC_MD = """
### React to FlippingBook events

**What it does:** `flipbook_on_converted` runs once per poll in which publications finished
converting (its watcher, in the triggerer, lists them all in one asset event): one tracked link per
publication for the sales team (`sales_link`, mapped; an existing link of that title is reused) and
one Papyrs page listing them (`announce`). A manual run takes the param `publication_ids` instead.
`flipbook_on_webhook` runs on the events the webhook receiver recorded (README, "Pushed: FlippingBook
webhooks") and lists them on a Papyrs page (`note_on_intranet`).

**Set before the first run:** connections `flippingbook_default` (FlippingBook: the API key as
password) and `papyrs_default` (Papyrs); pools `flippingbook` and `papyrs`; for the webhooks, the
extra `webhook_token` on `flippingbook_default` and a registered trigger (`flipbook-webhooks register`).
Unpause the DAGs: a paused DAG's watcher does not poll.
"""


def events_of(context: dict[str, Any], asset: Asset) -> list[dict[str, Any]]:
    """The items of every asset event that triggered this run (each carries an ``event_id``)."""
    found = []
    for event in context["triggering_asset_events"].get(asset, []):
        found += payload_events((event.extra or {}).get("payload"))
    return found


@dag(
    description="When a FlippingBook publication converts: a tracked link for sales and a Papyrs announcement",
    doc_md=DOC_MD,
    schedule=[CONVERTED],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["flipbook", "example", "events"],
    params={"publication_ids": Param([], type="array", description="Manual runs: publications to announce")},
)
def flipbook_on_converted():
    @task
    def converted(**context) -> list[str]:
        items = events_of(context, CONVERTED)
        if not items:  # a manual run (or `airflow dags test`): the publications named in the params
            items = [{"object_id": pid, "event": "manual"} for pid in context["params"]["publication_ids"]]
        print(f"{len(items)} publication event(s): {[(i['event'], i['object_id']) for i in items]}")
        return list(dict.fromkeys(i["object_id"] for i in items))

    links = CreateTrackedLinkOperator.partial(
        task_id="sales_link", title="Sales team", notification_type="Email", pool="flippingbook"
    ).expand(publication=converted())

    @task
    def announcement(links: list[dict[str, Any]]) -> str:
        rows = "\n".join(f"| {link['publication_id']} | <{link['url']}> |" for link in links)
        return f"# Converted on FlippingBook\n\n| Publication | Sales link |\n|---|---|\n{rows}\n"

    PapyrsMarkdownPageOperator(
        task_id="announce",
        title="Converted flipbooks",
        markdown=announcement(links.output),
        folder="Announcements",
        if_exists="replace",
        pool="papyrs",
    )


@dag(
    description="Note FlippingBook webhook events (leads, views, conversions) on a Papyrs page",
    doc_md=DOC_MD,
    schedule=[WEBHOOKS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["flipbook", "example", "events"],
)
def flipbook_on_webhook():
    @task
    def received(**context) -> str:
        items = events_of(context, WEBHOOKS)
        rows = "\n".join(
            f"| {i['event']} | {i.get('object_id') or ''} | {'yes' if i.get('verified') else 'no'} | {i['event_id']} |"
            for i in items
        )
        print(f"{len(items)} webhook event(s): {[i['event'] for i in items]}")
        return (
            f"# FlippingBook events\n\n| Event | Object | Verified | Event id |\n|---|---|---|---|\n{rows}\n"
        )

    PapyrsMarkdownPageOperator(
        task_id="note_on_intranet",
        title="FlippingBook events",
        markdown=received(),
        folder="Announcements",
        if_exists="replace",
        pool="papyrs",
    )


flipbook_on_converted()
flipbook_on_webhook()
