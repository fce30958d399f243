"""End to end on a real deployment: `airflow standalone` (scheduler, dag processor, triggerer,
LocalExecutor workers, API server) with the sandbox; each example DAG unpaused and triggered through
the REST API and waited on. Proves that triggers run in the triggerer process, that tasks run as
separate worker processes, and that the task logs of a real run hold no credential.

Run with `make e2e` (deselected from the default suite: it takes about two minutes).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DAGS = ("flipbook_publish", "catalog_nightly_refresh", "report_to_intranet")
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
WATCH_INTERVAL = 2.0
WEBHOOK_TOKEN = "e2e-webhook-" + "5d2c9e" * 6
CREDENTIALS = {
    "--flippingbook-key": "fbk-E2E-distinctive-7f3a91",
    "--flipsnack-key": "FSK-E2E-DISTINCT-55AA",
    "--flipsnack-secret": "FSS-E2E-SECRET-9c2e44",
    "--ipaper-api-key": "ipk-E2E-distinctive-3b8d",
    "--papyrs-token": "pyt-E2E-distinctive-a1c6",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def restore_sigint() -> None:  # a child of a non-interactive shell may inherit SIGINT as ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        # A parsed file is parsed again only when asked (as the README says to after pausing or
        # unpausing a DAG with a watcher): the watcher test proves that asking is enough.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
        "FLIPBOOK_SAMPLES": str(home / "samples"),
        "FLIPBOOK_ARCHIVE": str(home / "archive"),
        "FLIPBOOK_REPORTS": str(home / "reports"),
        "FLIPBOOK_WATCH_INTERVAL": str(WATCH_INTERVAL),  # the event DAG's watcher polls every 2 s
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        # The example DAGs, and the browser check's DAG in a bundle of its own (tests/e2e/dags).
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
            [
                {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
                {
                    "name": "e2e-browser",
                    "classpath": LOCAL_BUNDLE,
                    "kwargs": {"path": str(ROOT / "tests/e2e/dags")},
                },
            ]
        ),
    }
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = (
        f"http://localhost:{env['AIRFLOW__API__PORT']}/execution/"
    )
    port = free_port()
    sandbox = subprocess.Popen(
        [
            str(BIN / "flipbook-sandbox"),
            "--port",
            str(port),
            "--speed",
            "20",
            *[part for pair in CREDENTIALS.items() for part in pair],
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=restore_sigint,
    )
    for _ in range(4):
        line = sandbox.stdout.readline()
        name, _, value = line.strip().partition("=")
        env[name] = value.strip("'")
    flippingbook = json.loads(env["AIRFLOW_CONN_FLIPPINGBOOK_DEFAULT"])  # its webhook receiver, on
    flippingbook["extra"]["webhook_token"] = WEBHOOK_TOKEN
    env["AIRFLOW_CONN_FLIPPINGBOOK_DEFAULT"] = json.dumps(flippingbook)
    subprocess.run(
        [str(BIN / "python"), "-m", "airflow_provider_flipbook.sandbox.samples", env["FLIPBOOK_SAMPLES"]],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    make_sample_pdf(
        home / "samples" / "long-report.pdf", 400, "Long report"
    )  # converts for seconds: it defers
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    for pool in ("flippingbook", "flipsnack", "ipaper", "papyrs"):
        subprocess.run(
            [str(BIN / "airflow"), "pools", "set", pool, "2", pool],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    log = (home / "standalone.log").open("w")
    standalone = subprocess.Popen(
        [str(BIN / "airflow"), "standalone"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=restore_sigint,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"
    try:
        token = wait_for_api(api, Path(env["AIRFLOW_HOME"]), standalone)
        yield {
            "conf": {"flipbook_publish": {"pdf": str(home / "samples" / "long-report.pdf")}},
            "api": api,
            "headers": {"Authorization": f"Bearer {token}"},
            "home": Path(env["AIRFLOW_HOME"]),
            "sandbox": f"http://127.0.0.1:{port}",
            "env": env,
            "log": home / "standalone.log",
        }
    finally:
        standalone.send_signal(signal.SIGINT)  # SIGTERM would orphan the components
        try:
            standalone.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(standalone.pid, signal.SIGKILL)
            standalone.wait()
        try:
            os.killpg(standalone.pid, signal.SIGKILL)  # anything left of the process group
        except ProcessLookupError:
            pass
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=30)
        log.close()


def wait_for_api(api: str, home: Path, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"airflow standalone exited with {process.returncode}")
        try:
            health = requests.get(f"{api}/api/v2/monitor/health", timeout=5).json()
            passwords = home / "simple_auth_manager_passwords.json.generated"
            healthy = all(
                health.get(c, {}).get("status") == "healthy"
                for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            )
            if healthy and passwords.exists():
                password = json.loads(passwords.read_text())["admin"]
                return requests.post(
                    f"{api}/auth/token", json={"username": "admin", "password": password}, timeout=10
                ).json()["access_token"]
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(2)
    raise TimeoutError("airflow standalone did not become healthy in 180 s")


def trigger_and_wait(deployment, dag_id: str, conf: dict, timeout: float = 300) -> dict:
    api, headers = deployment["api"], deployment["headers"]
    deadline = time.monotonic() + 120
    while requests.get(f"{api}/api/v2/dags/{dag_id}", headers=headers, timeout=10).status_code != 200:
        assert time.monotonic() < deadline, f"{dag_id} was never parsed"
        time.sleep(2)
    requests.patch(
        f"{api}/api/v2/dags/{dag_id}", json={"is_paused": False}, headers=headers, timeout=10
    ).raise_for_status()
    run = requests.post(
        f"{api}/api/v2/dags/{dag_id}/dagRuns",
        json={"logical_date": None, "conf": conf},
        headers=headers,
        timeout=10,
    )
    run.raise_for_status()
    run_id = run.json()["dag_run_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = requests.get(
            f"{api}/api/v2/dags/{dag_id}/dagRuns/{run_id}", headers=headers, timeout=10
        ).json()
        if state["state"] in ("success", "failed"):
            return state
        time.sleep(3)
    raise TimeoutError(f"{dag_id} did not finish in {timeout:g} s")


def test_example_dags_under_airflow_standalone(deployment):
    runs = {}
    for dag_id in DAGS:
        state = trigger_and_wait(deployment, dag_id, deployment["conf"].get(dag_id, {}))
        assert state["state"] == "success", f"{dag_id}: {state}"
        runs[dag_id] = state["dag_run_id"]
    links = requests.get(
        f"{deployment['api']}/api/v2/dags/flipbook_publish/dagRuns/{runs['flipbook_publish']}"
        "/taskInstances/upload_pdf/links",
        headers=deployment["headers"],
        timeout=10,
    ).json()
    assert links["extra_links"]["View flipbook"].startswith(deployment["sandbox"] + "/flippingbook/view/")
    logs = deployment["home"] / "logs"
    task_logs = list(logs.rglob("*.log"))
    trigger_logs = [p for p in task_logs if ".trigger." in p.name]
    assert any("wait_for_conversion" in str(p) for p in trigger_logs), "no trigger ran in the triggerer"
    text = "\n".join(p.read_text(errors="replace") for p in task_logs)
    assert "upload_pdf" in str(task_logs)
    signatures = requests.get(f"{deployment['sandbox']}/_sandbox/signatures", timeout=10).json()
    assert signatures, "the Flipsnack calls were not seen"
    for secret in [*CREDENTIALS.values(), *signatures]:
        assert secret not in text, f"a credential leaked into the task logs: {secret[:6]}..."
    requests_log = requests.get(f"{deployment['sandbox']}/_sandbox/requests", timeout=10).json()
    assert not [r for r in requests_log if r["credential_in_url"]]


def test_mapped_waits_share_one_poll_of_the_account(deployment):
    """A mapped upload of 100 deferred waits on one FlippingBook account (tests/e2e/dags/mapped_waits.py):
    the triggerer's status requests per poll interval stay those of one shared list call, not one per
    wait, and its loop is never reported blocked."""
    from tests.e2e.dags.mapped_waits import POLL_INTERVAL, WAITS

    sandbox = deployment["sandbox"]
    log_from = deployment["log"].stat().st_size
    # Conversions that outlast the upload phase, so that the waits are pending together.
    options = f"{sandbox}/_sandbox/options"
    requests.post(options, json={"flippingbook": {"extra_pages": 4000}}, timeout=10).raise_for_status()
    try:
        started = time.monotonic()
        state = trigger_and_wait(deployment, "mapped_waits", {}, timeout=900)
        print(f"mapped waits: the run took {time.monotonic() - started:.0f} s")
    finally:
        requests.post(options, json={"flippingbook": {"extra_pages": 0}}, timeout=10).raise_for_status()
    assert state["state"] == "success", state
    logs = deployment["home"] / "logs" / "dag_id=mapped_waits"
    deferred = {p.parent for p in logs.rglob("*.log") if ".trigger." in p.name}
    assert len(deferred) >= WAITS, f"only {len(deferred)} uploads waited in the triggerer"

    calls = requests.get(f"{sandbox}/_sandbox/requests", timeout=30).json()
    listing = "/flippingbook/api/v1/fbonline/publication"
    status = sorted(  # the triggerer's: the list without a name query, or one publication alone
        r["at"]
        for r in calls
        if r["method"] == "GET"
        and r["at"] >= state_started(state)
        and ((r["path"] == listing and "query=" not in r["query"]) or r["path"].startswith(listing + "/"))
    )
    assert status, "the waits sent no status request"
    busiest = max(sum(1 for t in status if start <= t < start + POLL_INTERVAL) for start in status)
    print(f"mapped waits: {len(status)} status requests, at most {busiest} per {POLL_INTERVAL:g} s interval")
    assert busiest <= 3, f"{busiest} status requests in one poll interval for {WAITS} waits"

    with deployment["log"].open(errors="replace") as log:
        log.seek(log_from)
        blocked = [line for line in log if "async thread was blocked" in line]
    assert not blocked, blocked[:3]


def state_started(state: dict) -> float:
    from datetime import datetime

    return datetime.fromisoformat(state["start_date"].replace("Z", "+00:00")).timestamp()


def test_first_contact_in_a_real_browser(deployment):
    """tests/e2e/browser.py: connections made in the Add form with empty extras, a DAG using them, and
    each task's log, XCom and extra link opened in Debian's Chromium. Screenshots in .e2e/browser/."""
    from airflow_provider_flipbook.get_provider_info import get_provider_info
    from tests.e2e.browser import CHROMIUM, UICheck

    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: `make e2e` installs Debian's chromium with apt-get"
    )
    hook_names = {c["connection-type"]: c["hook-name"] for c in get_provider_info()["connection-types"]}
    check = UICheck(deployment, ROOT / ".e2e" / "browser", hook_names)
    report = check.run(lambda dag_id, conf: trigger_and_wait(deployment, dag_id, conf))
    print(f"browser check: {report.seconds} s, {len(report.screenshots)} screenshots in {check.out}")
    assert not report.problems, report.problems


# -- vendor events: the watcher (triggerer) and the webhook receiver (API server) start DAG runs ------


def unpause(deployment, dag_id: str) -> None:
    api, headers = deployment["api"], deployment["headers"]
    deadline = time.monotonic() + 120
    while requests.get(f"{api}/api/v2/dags/{dag_id}", headers=headers, timeout=10).status_code != 200:
        assert time.monotonic() < deadline, f"{dag_id} was never parsed"
        time.sleep(2)
    requests.patch(
        f"{api}/api/v2/dags/{dag_id}", json={"is_paused": False}, headers=headers, timeout=10
    ).raise_for_status()


def reparse(deployment, dag_id: str) -> None:
    """Ask the DAG processor to parse the DAG's file now: watchers follow a pause or unpause only then."""
    api, headers = deployment["api"], deployment["headers"]
    token = requests.get(f"{api}/api/v2/dags/{dag_id}", headers=headers, timeout=10).json()["file_token"]
    requests.put(f"{api}/api/v2/parseDagFile/{token}", headers=headers, timeout=10).raise_for_status()


def finished_runs(deployment, dag_id: str, *, every: bool = False) -> list[dict]:
    """The DAG's finished runs (``every``: whatever their state)."""
    runs = requests.get(
        f"{deployment['api']}/api/v2/dags/{dag_id}/dagRuns",
        params={"limit": 100},
        headers=deployment["headers"],
        timeout=10,
    ).json()["dag_runs"]
    return [r for r in runs if every or r["state"] in ("success", "failed")]


def run_events(deployment, dag_id: str, run: dict) -> list[dict]:
    """The payload items of the asset events that triggered one run."""
    answer = requests.get(
        f"{deployment['api']}/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents",
        headers=deployment["headers"],
        timeout=10,
    ).json()
    return [item for event in answer["asset_events"] for item in event["extra"]["payload"]["events"]]


def list_calls(deployment) -> list[dict]:
    log = requests.get(
        f"{deployment['sandbox']}/_sandbox/requests", params={"vendor": "flippingbook"}, timeout=10
    )
    return [r for r in log.json() if r["method"] == "GET" and r["path"].endswith("/fbonline/publication")]


def test_vendor_events_start_one_dag_run_per_transition(deployment):
    """Three publications converting at once reach flipbook_on_converted exactly once each (through the
    real triggerer and scheduler) and flipbook_on_webhook through the API server's receiver; quiet
    intervals start nothing; a replay is a duplicate; a paused DAG's watcher stops polling."""
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    sandbox, api = deployment["sandbox"], deployment["api"]
    register = subprocess.run(  # as a user would: the CLI, with the deployment's connections
        [
            str(BIN / "flipbook-webhooks"),
            "register",
            "--api-url",
            api,
            "--event",
            "created",
            "--event",
            "lead",
        ],
        env=deployment["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert register.returncode == 0, register.stderr
    assert WEBHOOK_TOKEN not in register.stdout + register.stderr
    for dag_id in ("flipbook_on_converted", "flipbook_on_webhook"):
        unpause(deployment, dag_id)
    reparse(deployment, "flipbook_on_converted")  # its watcher starts at the next parse of its file
    unpaused, deadline = time.time(), time.monotonic() + 120
    while len([c for c in list_calls(deployment) if c["at"] > unpaused]) < 2:  # the watcher's baseline
        assert time.monotonic() < deadline, "the watcher never polled"
        time.sleep(1)

    fb = requests.Session()
    fb.headers["Authorization"] = f"Bearer {CREDENTIALS['--flippingbook-key']}"
    pdf = deployment["home"].parent / "event.pdf"
    make_sample_pdf(pdf, 3, "Event")
    data = base64.b64encode(pdf.read_bytes()).decode()
    base = f"{sandbox}/flippingbook/api/v1/fbonline"
    created = [
        fb.post(f"{base}/publication", json={"name": f"Event {n}", "data": data}, timeout=30).json()["id"]
        for n in range(3)
    ]

    deadline, seen = time.monotonic() + 240, []
    while time.monotonic() < deadline:
        runs = finished_runs(deployment, "flipbook_on_converted")
        seen = [
            (i["object_id"], i["event_id"])
            for run in runs
            for i in run_events(deployment, "flipbook_on_converted", run)
        ]
        if {oid for oid, _ in seen} >= set(created):
            break
        time.sleep(3)
    assert sorted(oid for oid, _ in seen if oid in created) == sorted(created), seen  # each exactly once
    assert len({eid for _, eid in seen}) == len(seen)
    runs = finished_runs(deployment, "flipbook_on_converted")
    assert all(r["state"] == "success" for r in runs), runs

    webhook_items: list[dict] = []
    while time.monotonic() < deadline:
        done = finished_runs(deployment, "flipbook_on_webhook")
        webhook_items = [i for run in done for i in run_events(deployment, "flipbook_on_webhook", run)]
        if {i["object_id"] for i in webhook_items} >= set(created):
            break
        time.sleep(3)
    converted = [i for i in webhook_items if i["event"] == "converted" and i["object_id"] in created]
    assert sorted(i["object_id"] for i in converted) == sorted(created), webhook_items
    assert all(i["verified"] and i["source"] == "webhook" for i in converted)
    assert all(r["state"] == "success" for r in finished_runs(deployment, "flipbook_on_webhook"))

    receiver = f"{api}/flipbook-webhooks/flippingbook/flippingbook_default/{WEBHOOK_TOKEN}"
    delivery = next(
        d for d in requests.get(f"{sandbox}/_sandbox/webhooks", timeout=10).json() if d["delivered"]
    )
    replay = requests.post(
        receiver, json=delivery["body"], headers={"X-FlippingBook-Event": "created"}, timeout=10
    )
    assert replay.status_code == 200 and replay.json()["duplicate"], replay.text
    assert requests.post(receiver[:-1] + "x", json=delivery["body"], timeout=10).status_code == 404
    assert requests.post(receiver, data=b"not json", timeout=10).status_code == 400

    settled = len(finished_runs(deployment, "flipbook_on_converted", every=True))
    time.sleep(10 * WATCH_INTERVAL)  # ten quiet intervals
    assert len(finished_runs(deployment, "flipbook_on_converted", every=True)) == settled

    requests.patch(
        f"{api}/api/v2/dags/flipbook_on_converted",
        json={"is_paused": True},
        headers=deployment["headers"],
        timeout=10,
    ).raise_for_status()
    reparse(deployment, "flipbook_on_converted")
    # The watcher goes when the DAG file is parsed again (asked for here; files are not parsed again
    # otherwise in this deployment) and the triggerer syncs; then no list calls, interval after interval.
    deadline, stopped = time.monotonic() + 120, False
    while not stopped and time.monotonic() < deadline:
        before = len(list_calls(deployment))
        time.sleep(5 * WATCH_INTERVAL)
        stopped = len(list_calls(deployment)) == before
    assert stopped, "a paused DAG's watcher kept polling"
    logs = [*(deployment["home"] / "logs").rglob("*.log"), deployment["home"].parent / "standalone.log"]
    assert "/flipbook-webhooks/flippingbook/" in logs[-1].read_text(errors="replace"), (
        "no access log to check"
    )
    assert not [p for p in logs if WEBHOOK_TOKEN in p.read_text(errors="replace")], (
        "the receiver token leaked"
    )
