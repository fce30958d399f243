"""Weekly statistics from FlippingBook, Flipsnack and iPaper, published as a Papyrs page with the
CSV attached and a note in the page's discussion. Runs weekly and after each catalogue refresh."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset, dag, task

# in airflow.sdk only from Airflow 3.2
from airflow_provider_flipbook._compat import AssetOrTimeSchedule, CronTriggerTimetable
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.retry import vendor_retry_policy_args

REPORTS = os.environ.get(
    "FLIPBOOK_REPORTS", os.path.join(os.path.dirname(__file__), "..", ".demo", "reports")
)


DOC_MD = """
### Weekly statistics to the intranet

**What it does:** reads the numbers from FlippingBook (visits and viewing time per tracked link),
Flipsnack (the week's views, impressions, time spent and downloads per collection) and iPaper (the
week's visitors and page views per paper), writes them as a CSV, and publishes a Papyrs page
"Publishing statistics" in the folder "Reports" with the tables, the CSV attached and a note in the
page's discussion (the previous page of that title is replaced). Runs Mondays at 07:00 UTC, and after
each catalogue refresh (`catalog_nightly_refresh`'s assets).

**What you get:** "Open page" on the Papyrs task; the CSV under `FLIPBOOK_REPORTS` (an environment
variable of the workers; default `.demo/reports` beside the DAGs folder).

**Set before the first run:** connections `flippingbook_default`, `flipsnack_default`,
`ipaper_default` and `papyrs_default` (see `flipbook_publish`), and the pools `flippingbook`,
`flipsnack`, `ipaper` and `papyrs`.
"""


@dag(
    description="Weekly publishing statistics from FlippingBook, Flipsnack and iPaper as a Papyrs page with the CSV attached",
    doc_md=DOC_MD,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * 1", timezone="UTC"),
        # the catalogue refresh's assets (dags/catalog_nightly_refresh.py): either vendor's refresh
        assets=(
            Asset("flippingbook://api-tc.is.flippingbook.com/folder/Catalogue")
            | Asset("ipaper://ipaper.api.ipapercms.dk/category/catalogue")
        ),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["flipbook", "example"],
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=10), **vendor_retry_policy_args()},
)
def report_to_intranet():
    def week(context) -> tuple[str, str]:
        """The reporting window: the data interval, or the 7 days before a manual run."""
        end = pendulum.instance(context.get("data_interval_end") or context["dag_run"].run_after)
        start = pendulum.instance(context.get("data_interval_start") or end.subtract(days=7))
        if start == end:
            start = end.subtract(days=7)
        return start.to_date_string(), end.to_date_string()

    @task(pool="flippingbook")
    def flippingbook_links() -> list[dict]:
        from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook

        return [
            {
                "publication": link["publication"]["title"],
                "link": link["title"],
                "visits": link["shortStats"]["fullStats"]["visits"],
                "seconds": link["shortStats"]["fullStats"]["viewDuration"],
            }
            for link in FlippingBookHook().iter_tracked_links()
        ]

    @task(pool="flipsnack")
    def flipsnack_stats(**context) -> list[dict]:
        from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook

        hook = FlipsnackHook()
        start, end = week(context)
        return [
            {
                "collection": c["collectionTitle"],
                **{
                    k: v
                    for k, v in hook.get_collection_stats(
                        c["collectionHash"], start_date=start, end_date=end
                    ).items()
                    if k != "pages"
                },
            }
            for c in hook.iter_collections()
        ]

    @task(pool="ipaper")
    def ipaper_stats(**context) -> list[dict]:
        from airflow_provider_flipbook.hooks.ipaper import IPaperHook

        hook = IPaperHook()
        start, end = week(context)
        return [
            {
                "paper": p["name"],
                "visitors": hook.get_visitors(int(p["id"]), start, end),
                "pageviews": sum(hook.get_pageviews_per_day(int(p["id"]), start, end).values()),
            }
            for p in hook.iter_papers()
        ]

    @task
    def build_report(links: list[dict], snacks: list[dict], papers: list[dict], **context) -> dict:
        import csv
        import io

        def table(rows: list[dict]) -> str:
            if not rows:
                return "_No data this week._\n"
            header = list(rows[0])
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(str(row[h]) for h in header) + " |" for row in rows]
            return "\n".join(lines) + "\n"

        ending = week(context)[1]
        markdown = (
            f"# Publishing statistics, week ending {ending}\n\n"
            f"## FlippingBook tracked links\n\n{table(links)}\n"
            f"## Flipsnack collections\n\n{table(snacks)}\n"
            f"## iPaper papers\n\n{table(papers)}"
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["vendor", "item", "metric", "value"])
        for row in links:
            writer.writerow(
                ["flippingbook", f"{row['publication']} / {row['link']}", "visits", row["visits"]]
            )
        for row in snacks:
            writer.writerow(["flipsnack", row["collection"], "views", row.get("views")])
        for row in papers:
            writer.writerow(["ipaper", row["paper"], "visitors", row["visitors"]])
        os.makedirs(REPORTS, exist_ok=True)
        path = os.path.join(REPORTS, f"publishing-stats-{ending}.csv")
        with open(path, "w", newline="") as out:
            out.write(buffer.getvalue())
        return {"markdown": markdown, "csv": path}

    report = build_report(flippingbook_links(), flipsnack_stats(), ipaper_stats())
    PapyrsMarkdownPageOperator(
        task_id="publish_report",
        title="Publishing statistics",
        markdown=report["markdown"],
        attachments=[report["csv"]],
        folder="Reports",
        if_exists="replace",
        discussion_post="This week's publishing statistics are up, CSV attached.",
        pool="papyrs",
    )


report_to_intranet()
