"""End to end on a real deployment: `airflow standalone` (scheduler, dag processor, triggerer,
LocalExecutor workers, API server) with the sandbox; each example DAG unpaused and triggered through
the REST API and waited on. Proves that triggers run in the triggerer process, that tasks run as
separate worker processes, and that the task logs of a real run hold no credential.

Run with `make e2e` (deselected from the default suite: it takes about two minutes).
"""

from __future__ import annotations

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
        "FLIPBOOK_SAMPLES": str(home / "samples"),
        "FLIPBOOK_ARCHIVE": str(home / "archive"),
        "FLIPBOOK_REPORTS": str(home / "reports"),
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


def trigger_and_wait(deployment, dag_id: str, conf: dict) -> dict:
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
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = requests.get(
            f"{api}/api/v2/dags/{dag_id}/dagRuns/{run_id}", headers=headers, timeout=10
        ).json()
        if state["state"] in ("success", "failed"):
            return state
        time.sleep(3)
    raise TimeoutError(f"{dag_id} did not finish in 300 s")


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
