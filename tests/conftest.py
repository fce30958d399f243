"""Test set-up. Airflow reads its configuration at import time, so the environment is set first."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="flipbook-test-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ.setdefault("FLIPBOOK_SAMPLES", str(Path(os.environ["AIRFLOW_HOME"]) / "samples"))

import json  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from airflow_provider_flipbook._compat import HAS_TASK_STATE_STORE  # noqa: E402


def dag_bag(folder: Any) -> Any:
    """Airflow's DagBag over ``folder`` (moved to ``airflow.dag_processing`` in 3.2)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=str(folder))


# Resume from the task state store is an Airflow 3.3 feature (AIP-103); below it there is no store.
needs_task_state_store = pytest.mark.skipif(
    not HAS_TASK_STATE_STORE, reason="resume on retry through the task state store needs Airflow 3.3+"
)


class FakeTI:
    """What operators touch on ``context["ti"]``: XCom pushes, kept for assertions."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}
        self.try_number = 1
        self.first_reschedule: Any = None

    def get_first_reschedule_date(self, context: Any) -> Any:
        """What the scheduler would remember between reschedules of one sensor."""
        from airflow.sdk import timezone

        first, self.first_reschedule = self.first_reschedule, self.first_reschedule or timezone.utcnow()
        return first

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom values must be JSON-serialisable
        self.xcom[key] = value


class FakeStateStore:
    """The task state store's get/set, kept across "tries" of one test."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, **_: Any) -> None:
        self.data[key] = json.loads(json.dumps(value))


@pytest.fixture
def context() -> dict[str, Any]:
    return {"ti": FakeTI(), "task_state_store": FakeStateStore()}


@pytest.fixture
def sandbox(flipbook_sandbox):
    """The session sandbox, reset before each test so counts start at zero."""
    flipbook_sandbox.reset()
    yield flipbook_sandbox
    flipbook_sandbox.state_store.faults.clear()


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> dict[str, Path]:
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    folder = tmp_path_factory.mktemp("pdfs")
    files = {
        "small": folder / "small.pdf",
        "three": folder / "three.pdf",
        "encrypted": folder / "encrypted.pdf",
        "big": folder / "big.pdf",
        "not_pdf": folder / "notes.pdf",
        "empty": folder / "empty.pdf",
        "truncated": folder / "truncated.pdf",
        "long": folder / "long.pdf",
        "xfa": folder / "xfa-form.pdf",
    }
    make_sample_pdf(files["small"], 4, "Small sample")
    make_sample_pdf(files["three"], 3, "Three pages")
    make_sample_pdf(files["encrypted"], 2, "Secret", encrypt_with="open-sesame")
    make_sample_pdf(files["big"], 3, "Big sample", pad_to_bytes=1_200_000)
    make_sample_pdf(files["long"], 400, "A long catalogue")
    make_sample_pdf(files["xfa"], 2, "An XFA form", xfa=True)
    files["not_pdf"].write_text("these are not the bytes you are looking for\n")
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(files["small"].read_bytes()[:300])
    return files


def run_rescheduled(sensor: Any, context: dict[str, Any], limit: int = 500) -> Any:
    """Run a reschedule-mode sensor as the scheduler would: again after each reschedule, until done."""
    import time

    from airflow_provider_flipbook._compat import AirflowRescheduleException

    for _ in range(limit):
        try:
            return sensor.execute(context)
        except AirflowRescheduleException:
            time.sleep(sensor.poke_interval)
    raise AssertionError("the sensor never finished")


def run_deferred(operator: Any, context: dict[str, Any], methods: list[str] | None = None) -> Any:
    """Drive execute -> defer -> trigger (serialized, re-created) -> the resume method, as Airflow does,
    as many times as the task defers; ``methods`` collects the resume methods in order."""
    import asyncio
    import importlib

    from airflow_provider_flipbook._compat import TaskDeferred

    resume: Any = lambda: operator.execute(context)  # noqa: E731
    while True:
        try:
            return resume()
        except TaskDeferred as deferred:
            classpath, kwargs = deferred.trigger.serialize()
            module, _, name = classpath.rpartition(".")
            trigger = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))

            async def first_event(trigger: Any = trigger) -> Any:
                events = [event async for event in trigger.run()]
                assert len(events) == 1, events
                return events[0]

            event = asyncio.run(first_event())
            if methods is not None:
                methods.append(deferred.method_name)
            resume = lambda d=deferred, e=event: getattr(operator, d.method_name)(  # noqa: E731
                context, event=e.payload, **(d.kwargs or {})
            )


@pytest.fixture
def pdf_server():
    """Serve bytes over loopback HTTP (for URL sources); returns a function bytes -> URL."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = files.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def serve(body: bytes, name: str = "document.pdf") -> str:
        files[f"/{name}"] = body
        return f"http://127.0.0.1:{server.server_port}/{name}"

    yield serve
    server.shutdown()
