"""PapyrsNotifier once per DAG run across hosts: worker processes that share no file (each its own temp
directory, as on separate machines) post once when the connection's scope is ``redis`` (the
deployment's Redis, as their pacing needs too), and once per host with the default ``host`` scope.
Real processes, a real ``redis-server``, the sandbox over HTTP."""

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from tests.conftest import ROOT

HOSTS = 4
SCRIPT = textwrap.dedent(
    """
    import sys
    from types import SimpleNamespace
    from airflow_provider_flipbook.notifications.papyrs import PapyrsNotifier

    run_id, page, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for index in range(first, first + 10):
        context = {"dag_run": SimpleNamespace(dag_id="storm", run_id=run_id),
                   "ti": SimpleNamespace(task_id="upload", map_index=index)}
        PapyrsNotifier(conn_id="papyrs_hosts", page=page, message="the refresh failed").notify(context)
    """
)


@pytest.fixture(scope="module")
def redis_server():
    from benchmarks.common import RedisServer, RedisUnavailable

    try:
        server = RedisServer()
    except RedisUnavailable as error:
        pytest.skip(f"no Redis server for the redis scope: {error}")
    yield server
    server.stop()


@pytest.fixture
def status_page(sandbox):
    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

    page = PapyrsHook("papyrs_default").create_page("Status", [[], [{"classname": "Discussion"}]])
    return str(page["id"])


def storm_on_separate_hosts(sandbox, tmp_path, page: str, scope: str, redis_conn: str) -> int:
    """Forty failing mapped tasks on ``HOSTS`` hosts (processes with their own temp directories):
    the number of posts they made."""
    conn = sandbox.connections()["papyrs"]
    extra = {**conn["extra"], "pacing_scope": scope, "pacing_redis_conn_id": "deployment_redis"}
    run_id = f"storm-{uuid.uuid4()}"
    before = sandbox.state()["papyrs"]["discussion_posts"]
    workers = []
    for host in range(HOSTS):
        home = tmp_path / f"host{host}"
        home.mkdir()
        env = {
            **os.environ,
            **sandbox.env(),
            "TMPDIR": str(home),  # no claim file and no pacing file in common
            "AIRFLOW_CONN_PAPYRS_HOSTS": json.dumps({**conn, "extra": extra}),
            "AIRFLOW_CONN_DEPLOYMENT_REDIS": redis_conn,
        }
        command = [sys.executable, "-c", SCRIPT, run_id, page, str(host * 10)]
        workers.append(subprocess.Popen(command, env=env, cwd=ROOT))
    assert [w.wait(timeout=300) for w in workers] == [0] * HOSTS
    assert not [e for e in sandbox.requests("papyrs") if e.status == 429]
    return sandbox.state()["papyrs"]["discussion_posts"] - before


def test_hosts_sharing_the_deployments_redis_post_once(sandbox, status_page, redis_server, tmp_path):
    assert storm_on_separate_hosts(sandbox, tmp_path, status_page, "redis", redis_server.connection) == 1


def test_with_the_host_scope_each_host_posts_once(sandbox, status_page, redis_server, tmp_path):
    """What the README says of the default scope; and proof that these hosts share no file."""
    posted = storm_on_separate_hosts(sandbox, tmp_path, status_page, "host", redis_server.connection)
    assert posted == HOSTS


def test_a_failed_post_gives_its_redis_claim_back(sandbox, status_page, redis_server, monkeypatch):
    from types import SimpleNamespace

    from airflow_provider_flipbook.notifications.papyrs import PapyrsNotifier

    conn = sandbox.connections()["papyrs"]
    extra = {**conn["extra"], "pacing_scope": "redis", "pacing_redis_conn_id": "deployment_redis"}
    monkeypatch.setenv("AIRFLOW_CONN_PAPYRS_HOSTS", json.dumps({**conn, "extra": extra}))
    monkeypatch.setenv("AIRFLOW_CONN_DEPLOYMENT_REDIS", redis_server.connection)
    context = {"dag_run": SimpleNamespace(dag_id="storm", run_id=f"outage-{uuid.uuid4()}")}
    notifier = PapyrsNotifier(conn_id="papyrs_hosts", page=status_page, message="failed")
    sandbox.fault("papyrs", status=503, count=1000, route="feed/post")
    notifier.notify(context)  # logs, does not raise, releases the claim
    sandbox.state_store.faults.clear()
    before = sandbox.state()["papyrs"]["discussion_posts"]
    notifier.notify(context)
    notifier.notify(context)
    assert sandbox.state()["papyrs"]["discussion_posts"] - before == 1
