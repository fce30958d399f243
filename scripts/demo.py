"""`make demo`: the three example DAGs end to end, on SQLite and the sandbox, with a summary.

Starts the sandbox, writes the sample PDFs, creates one pool per vendor, runs each DAG with
`airflow dags test`, prints what was published, stops the sandbox and exits non-zero if a DAG failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
DAGS = ("flipbook_publish", "catalog_nightly_refresh", "report_to_intranet", "flipbook_on_converted")
POOLS = {"flippingbook": 4, "flipsnack": 2, "ipaper": 2, "papyrs": 1}


def main() -> int:
    os.environ.update(
        AIRFLOW_HOME=str(DEMO / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        FLIPBOOK_SAMPLES=str(DEMO / "samples"),
        FLIPBOOK_ARCHIVE=str(DEMO / "archive"),
        FLIPBOOK_REPORTS=str(DEMO / "reports"),
    )
    import shutil

    shutil.rmtree(DEMO / "airflow", ignore_errors=True)  # every demo starts from an empty metadata DB
    from airflow_provider_flipbook.sandbox import SandboxServer
    from airflow_provider_flipbook.sandbox.samples import write_samples

    write_samples(DEMO / "samples")
    airflow = str(Path(sys.executable).parent / "airflow")
    run([airflow, "db", "migrate"])
    for pool, slots in POOLS.items():
        run([airflow, "pools", "set", pool, str(slots), f"{pool} requests share one credential's rate limit"])
    speed = float(os.environ.get("FLIPBOOK_SANDBOX_SPEED", "20"))
    states: dict[str, str] = {}
    with SandboxServer(speed=speed) as sandbox:
        for name, conn in sandbox.connections().items():
            os.environ[f"AIRFLOW_CONN_{name.upper()}_DEFAULT"] = json.dumps(conn)
        # `airflow dags test` cannot run a DAG with a deadline alert (see dags/catalog_nightly_refresh.py)
        os.environ["FLIPBOOK_DEADLINE_ALERT"] = "off"
        print(f"Sandbox on {sandbox.url} (speed {speed:g})", flush=True)
        for dag_id in DAGS:
            started = time.monotonic()
            log = DEMO / f"{dag_id}.log"
            conf = watched_conf() if dag_id == "flipbook_on_converted" else []
            with log.open("w") as out:
                code = subprocess.call(
                    [airflow, "dags", "test", dag_id, *conf], stdout=out, stderr=subprocess.STDOUT
                )
            states[dag_id] = "success" if code == 0 else f"failed (exit {code}, see {log})"
            print(f"  {dag_id}: {states[dag_id]} in {time.monotonic() - started:.0f} s", flush=True)
        counts = sandbox.state_store.state()
    print_summary(states, counts)
    return 0 if all(state == "success" for state in states.values()) else 1


def watched_conf() -> list[str]:
    """One poll of the example's watcher (emit_existing: what converted so far), as the triggerer would
    run it; `airflow dags test` cannot hand a DAG asset events, so they go in as its params."""
    import asyncio

    from airflow_provider_flipbook.events import payload_events
    from airflow_provider_flipbook.triggers.watchers import PublicationEventTrigger

    watcher = PublicationEventTrigger(
        conn_id="flippingbook_default", events=["converted"], emit_existing=True
    )

    async def first_payload() -> dict:
        async for event in watcher.run():
            return event.payload
        raise RuntimeError("the watcher ended without an event")

    items = payload_events(asyncio.run(asyncio.wait_for(first_payload(), 60)))
    seen = ", ".join(f"{item['event']} {item['name']!r}" for item in items)
    print(f"  watcher (one poll, emit_existing): {seen}", flush=True)
    return ["-c", json.dumps({"publication_ids": [i["object_id"] for i in items]})]


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def print_summary(states: dict[str, str], counts: dict) -> None:
    xcoms = latest_xcoms()
    print("\nSummary")
    publish = xcoms.get("flipbook_publish", {})
    converted = publish.get("wait_for_conversion", [{}])[0] or {}
    print(f"  Flipbook:        {converted.get('url')} ({converted.get('total_pages')} pages)")
    for link in publish.get("tracked_link", []):
        print(f"  Tracked link:    {link['title']}: {link['url']}")
    for key in ("announce_on_intranet",):
        for page in publish.get(key, []):
            print(f"  Intranet page:   {page['url']}")
    catalogue = xcoms.get("catalog_nightly_refresh", {})
    for done in catalogue.get("wait_flippingbook", []) + catalogue.get("wait_ipaper", []):
        print(f"  Catalogue:       {done.get('name')}: {done.get('url')}")
    for package in catalogue.get("archive_html_package", []):
        print(f"  HTML package:    {package['destination']} ({package['size']:,} bytes)")
    for page in xcoms.get("report_to_intranet", {}).get("publish_report", []):
        print(f"  Report page:     {page['url']} (attachments: {', '.join(page['attachments'])})")
    print(f"  Sandbox objects: {json.dumps(counts)}")
    for dag_id, state in states.items():
        print(f"  DAG run {dag_id}: {state}")


def latest_xcoms() -> dict[str, dict[str, list]]:
    """Return values of each DAG's latest run, read from the metadata database."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    found: dict[str, dict[str, list]] = {}
    with create_session() as session:
        for dag_id in DAGS:
            run = session.query(DagRun).filter(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).first()
            if run is None:
                continue
            rows = (
                session.query(XComModel)
                .filter(XComModel.dag_run_id == run.id, XComModel.key == "return_value")
                .order_by(XComModel.map_index)
            )
            for row in rows:
                found.setdefault(dag_id, {}).setdefault(row.task_id, []).append(
                    XComModel.deserialize_value(row)
                )
    return found


if __name__ == "__main__":
    sys.exit(main())
