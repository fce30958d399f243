"""An example DAG run with OpenLineage installed and its file transport: the COMPLETE events name the
PDF, the publication, the tracked links and the intranet page (what a lineage backend receives)."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("airflow.providers.openlineage") is None,
    reason="the openlineage extra is not installed (it needs Python 3.11+)",
)

# Its own Airflow home and database, so OpenLineage reads its configuration fresh (it caches it).
RUN = textwrap.dedent(
    """
    import sys

    from airflow.models.pool import Pool
    from airflow.utils import db

    db.resetdb()
    for pool in ("flippingbook", "flipsnack", "ipaper", "papyrs"):
        Pool.create_or_update_pool(pool, slots=4, description=pool, include_deferred=False)
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag
    dag = DagBag(dag_folder=sys.argv[1]).dags["flipbook_publish"]
    run = dag.test(run_conf={"pdf": sys.argv[2], "recipients": ["Board", "Press"]})
    print("STATE", run.state)
    """
)


def test_flipbook_publish_sends_the_pdf_publication_links_and_page_to_lineage(flipbook_sandbox, tmp_path):
    from airflow_provider_flipbook.sandbox.samples import write_samples

    write_samples(tmp_path / "samples")
    pdf = str(tmp_path / "samples" / "annual-report.pdf")
    events_file = tmp_path / "openlineage.jsonl"
    env = {
        **os.environ,
        **flipbook_sandbox.env(),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "flipbook-tests",
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(ROOT / "dags"), pdf],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "STATE success" in done.stdout, (done.stdout[-2000:], done.stderr[-4000:])
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    complete = {}
    for event in events:
        if event["eventType"] == "COMPLETE":
            complete.setdefault(event["job"]["name"], []).append(event)
    host = flipbook_sandbox.url.split("://", 1)[1].rstrip("/")

    [upload] = complete["flipbook_publish.upload_pdf"]
    assert [(d["namespace"], d["name"]) for d in upload["inputs"]] == [("file", pdf)]
    [publication] = upload["outputs"]
    assert publication["namespace"] == f"flippingbook://{host}"
    assert publication["name"].startswith("/publication/")
    assert publication["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "CREATE"
    assert publication["facets"]["symlinks"]["identifiers"][0]["type"] == "URL"
    assert upload["run"]["facets"]["externalQuery"]["source"] == f"flippingbook://{host}"

    links = complete["flipbook_publish.tracked_link"]
    assert len(links) == 2  # one COMPLETE per mapped task instance
    for link in links:
        assert [(d["namespace"], d["name"]) for d in link["inputs"]] == [
            (publication["namespace"], publication["name"])
        ]
        assert link["outputs"][0]["name"].startswith("/tracked-link/")

    [page] = complete["flipbook_publish.announce_on_intranet"]
    [output] = page["outputs"]
    assert output["namespace"] == f"papyrs://{host}" and output["name"].startswith("/@home/page/")
