"""Requests to publish a 40-section markdown report as a Papyrs page: the operator (page + one
markdown call) against one request per widget (page, then a heading and a paragraph per section)."""

from __future__ import annotations

import requests

from benchmarks.common import Result, Sandbox
from benchmarks.pacing import papyrs_naive_post


def report(sections: int) -> str:
    return "\n\n".join(
        f"## Section {n}\n\nFigures for section {n}: **{n * 7}** views." for n in range(sections)
    )


def papyrs_requests(sections: int, speed: float) -> list[Result]:
    from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator

    markdown = report(sections)
    with Sandbox(speed) as sandbox:
        sandbox.use()
        PapyrsMarkdownPageOperator(task_id="p", title="Report", markdown=markdown).execute({})
        ours = sum(1 for r in sandbox.requests() if r["vendor"] == "papyrs")
    with Sandbox(speed) as sandbox:
        conn = sandbox.connections["papyrs"]
        session = requests.Session()
        session.headers["X-Auth-Token"] = conn["password"]
        base = conn["host"] + "/@home/api/v1"

        page = papyrs_naive_post(
            session, f"{base}/pages/create/", {"title": "Report", "json": [[]]}, 10 / speed
        )["id"]
        for n in range(sections):
            papyrs_naive_post(
                session,
                f"{base}/page/{page}/heading/create/",
                {"widget": {"val": f"Section {n}", "heading": "h2"}},
                10 / speed,
            )
            papyrs_naive_post(
                session,
                f"{base}/page/{page}/paragraph/create/",
                {"widget": {"val": f"Figures for section {n}"}},
                10 / speed,
            )
        baseline = sum(1 for r in sandbox.requests() if r["vendor"] == "papyrs" and r["status"] != 429)
    return [Result("papyrs_requests", ours, baseline, f"requests for a {sections}-section page", "<= 2")]
