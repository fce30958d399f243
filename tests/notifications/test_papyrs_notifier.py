"""PapyrsNotifier against the sandbox over HTTP: once per DAG run across processes, within Papyrs' rate
limit, never raising; as a failure callback (a real DAG run) and as a deadline alert (the triggerer's
callback trigger)."""

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import uuid
from types import SimpleNamespace

import pytest

from airflow_provider_flipbook._compat import HAS_DEADLINE_ALERTS
from airflow_provider_flipbook.notifications.papyrs import PapyrsNotifier
from tests.conftest import ROOT

STATUS = "Publishing status"


@pytest.fixture
def status_page(sandbox):
    """A page with a Discussion widget, as the notifier's target must have."""
    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

    page = PapyrsHook("papyrs_default").create_page(STATUS, [[], [{"classname": "Discussion"}]])
    return str(page["id"])


def posts(sandbox):
    return sandbox.state()["papyrs"]["discussion_posts"]


def rejected(sandbox):
    return [e for e in sandbox.requests("papyrs") if e.status == 429]


def task_context(run_id, task_id="t", map_index=-1):
    return {
        "dag_run": SimpleNamespace(dag_id="storm", run_id=run_id),
        "ti": SimpleNamespace(task_id=task_id, map_index=map_index),
        "run_id": run_id,
    }


def test_a_title_resolves_to_the_page_and_the_default_message_says_what_failed(sandbox, status_page):
    PapyrsNotifier(page=STATUS).notify(task_context(f"run-{uuid.uuid4()}", task_id="load"))
    assert posts(sandbox) == 1
    [post] = sandbox.state_store.vendors["papyrs"].state.posts
    assert post["page"] == status_page and "storm" in post["unsafe_c"] and "load failed" in post["unsafe_c"]


def test_the_message_is_templated(sandbox, status_page):
    notifier = PapyrsNotifier(page=status_page, message="{{ run_id }}: {{ ti.task_id }} failed")
    run_id = f"run-{uuid.uuid4()}"  # claims outlive the test session (a file in the temp directory)
    notifier(task_context(run_id, task_id="extract"))
    [post] = sandbox.state_store.vendors["papyrs"].state.posts
    assert post["unsafe_c"] == f"{run_id}: extract failed"


def test_forty_calls_from_four_processes_post_once_with_no_rate_limit_rejection(sandbox, status_page):
    """A storm of mapped task failures: each task process calls its own notifier instance."""
    run_id = f"storm-{uuid.uuid4()}"
    script = textwrap.dedent(
        """
        import sys
        from types import SimpleNamespace
        from airflow_provider_flipbook.notifications.papyrs import PapyrsNotifier

        run_id, page, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
        for index in range(first, first + 10):
            context = {"dag_run": SimpleNamespace(dag_id="storm", run_id=run_id),
                       "ti": SimpleNamespace(task_id="upload", map_index=index)}
            PapyrsNotifier(page=page, message="the catalogue refresh failed").notify(context)
        """
    )
    env = {**os.environ, **sandbox.env()}
    workers = [
        subprocess.Popen([sys.executable, "-c", script, run_id, status_page, str(i * 10)], env=env, cwd=ROOT)
        for i in range(4)
    ]
    assert [w.wait(timeout=300) for w in workers] == [0] * 4
    assert posts(sandbox) == 1
    assert rejected(sandbox) == []
    PapyrsNotifier(page=status_page, message="another message").notify(task_context(run_id))
    assert posts(sandbox) == 2  # another notifier (message template) of the same run posts its own once


def test_an_outage_never_raises_and_a_later_failure_of_the_run_posts(sandbox, status_page):
    run_id = f"outage-{uuid.uuid4()}"
    sandbox.fault("papyrs", status=503, count=1000, route="feed/post")
    PapyrsNotifier(page=status_page).notify(task_context(run_id))  # logs, does not raise
    assert posts(sandbox) == 0
    sandbox.state_store.faults.clear()
    PapyrsNotifier(page=status_page).notify(task_context(run_id, task_id="later"))
    assert posts(sandbox) == 1  # the failed attempt gave its claim up


def test_an_unknown_title_or_a_page_without_discussion_is_logged_not_raised(sandbox):
    from unittest.mock import PropertyMock, patch

    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

    bare = PapyrsHook("papyrs_default").create_page("No discussion here", [[]])
    with patch.object(PapyrsNotifier, "log", new_callable=PropertyMock) as log:
        PapyrsNotifier(page="No such page").notify(task_context(f"r1-{uuid.uuid4()}"))
        PapyrsNotifier(page=str(bare["id"])).notify(task_context(f"r2-{uuid.uuid4()}"))
    errors = [" ".join(map(str, call.args)) for call in log.return_value.error.call_args_list]
    assert len(errors) == 2
    assert "no Papyrs pages titled 'No such page'" in errors[0]
    assert "Discussion" in errors[1]
    assert posts(sandbox) == 0


def test_forty_failing_mapped_tasks_of_a_dag_run_post_once_and_keep_their_state(
    flipbook_sandbox, sandbox, status_page, tmp_path
):
    """A real DAG run (its own Airflow home): 40 mapped tasks fail, each task's on_failure_callback runs."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "storm.py").write_text(
        textwrap.dedent(
            f"""
            import pendulum
            from airflow.sdk import dag, task
            from airflow_provider_flipbook.notifications.papyrs import PapyrsNotifier

            @dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
            def storm():
                @task(retries=0, on_failure_callback=PapyrsNotifier(
                    page={STATUS!r}, message="Storm run {{{{ run_id }}}}: {{{{ ti.task_id }}}} failed"))
                def upload(n: int):
                    raise RuntimeError(f"upload {{n}} failed")

                upload.expand(n=list(range(40)))

            storm()
            """
        )
    )
    run = textwrap.dedent(
        """
        import json
        from airflow.utils import db

        db.resetdb()
        try:
            from airflow.dag_processing.dagbag import DagBag
        except ImportError:  # Airflow 3.1
            from airflow.models.dagbag import DagBag
        dag_run = DagBag(dag_folder=__import__("os").environ["AIRFLOW__CORE__DAGS_FOLDER"]).dags["storm"].test()
        states = sorted({str(ti.state) for ti in dag_run.get_task_instances()})
        print("RESULT", json.dumps({"run": str(dag_run.state), "tasks": len(dag_run.get_task_instances()),
                                    "states": states}))
        """
    )
    env = {
        **os.environ,
        **sandbox.env(),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    done = subprocess.run(
        [sys.executable, "-c", run], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, (done.stdout[-2000:], done.stderr[-3000:])
    result = json.loads(lines[0][len("RESULT ") :])
    assert result == {"run": "failed", "tasks": 40, "states": ["failed"]}
    assert posts(sandbox) == 1
    assert rejected(sandbox) == []
    [post] = sandbox.state_store.vendors["papyrs"].state.posts
    assert post["unsafe_c"].startswith("Storm run ") and "upload failed" in post["unsafe_c"]


@pytest.mark.skipif(not HAS_DEADLINE_ALERTS, reason="no deadline alerts in this Airflow")
def test_an_expired_deadline_of_the_example_dag_posts_once(sandbox, status_page, monkeypatch):
    """The catalogue DAG's alert, run as the triggerer runs an AsyncCallback: its callback trigger,
    with the simplified context Airflow hands over. Twice for the same run: one post."""
    monkeypatch.setenv("FLIPBOOK_DEADLINE_ALERT", "on")
    from tests.conftest import dag_bag

    dag = dag_bag(ROOT / "dags").dags["catalog_nightly_refresh"]
    [alert] = dag.deadline
    callback = alert.callback
    path = getattr(callback, "path", None) or callback.serialize()["path"]
    assert path.endswith("PapyrsNotifier")
    run_id = f"scheduled__2026-12-03T02:00:00+00:00-{uuid.uuid4()}"
    context = {
        "dag_run": {"dag_id": dag.dag_id, "dag_run_id": run_id},
        "deadline": {"id": str(uuid.uuid4()), "deadline_time": "2026-12-03T06:00:00+00:00"},
    }

    async def fire():
        try:  # 3.2+
            from airflow.triggers.callback import CallbackTrigger as Trigger
        except ImportError:  # 3.1
            from airflow.triggers.deadline import DeadlineCallbackTrigger as Trigger
        trigger = Trigger(callback_path=path, callback_kwargs={**callback.kwargs, "context": context})
        return [event.payload async for event in trigger.run()]

    for _ in range(2):
        events = asyncio.run(fire())
        assert str(events[-1]["state"]).lower().endswith("success"), events
    assert posts(sandbox) == 1 and rejected(sandbox) == []
    [post] = sandbox.state_store.vendors["papyrs"].state.posts
    assert post["unsafe_c"] == f"The catalogue is not live by 06:00: run {run_id} is still going."


def run_sync_callback(path, kwargs):
    """Run a SyncCallback as the executor does: the callback supervisor (3.3) or workload (3.2)."""

    import structlog

    log = structlog.get_logger("sync-callback")  # the supervisor logs with keywords
    try:  # 3.3+
        from airflow.sdk.execution_time.callback_supervisor import execute_callback
    except ImportError:
        try:  # 3.2
            from airflow.executors.workloads.callback import execute_callback_workload
        except ImportError:
            pytest.skip("no SyncCallback in this Airflow (3.2+)")
        return execute_callback_workload(SimpleNamespace(data={"path": path, "kwargs": kwargs}), log)
    return execute_callback(path, kwargs, None, None, log)


def test_as_a_sync_deadline_callback_it_posts_once(sandbox, status_page):
    context = {
        "dag_run": {"dag_id": "catalog_nightly_refresh", "dag_run_id": f"manual__{uuid.uuid4()}"},
        "deadline": {"id": str(uuid.uuid4()), "deadline_time": "2026-12-03T06:00:00+00:00"},
    }
    path = "airflow_provider_flipbook.notifications.papyrs.PapyrsNotifier"
    for _ in range(2):
        done, error = run_sync_callback(path, {"page": STATUS, "context": dict(context)})
        assert done, error
    assert posts(sandbox) == 1
    [post] = sandbox.state_store.vendors["papyrs"].state.posts
    assert "missed its deadline" in post["unsafe_c"]
