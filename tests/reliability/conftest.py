import json
import os

import pytest

FAST = {
    "retry_min_wait": 0.01,
    "retry_max_wait": 0.05,
    "timeout": 1.0,
    "max_retries": 4,
    "max_retry_after": 1.0,
}


@pytest.fixture
def fast(sandbox, monkeypatch):
    """Connections <vendor>_fast: the sandbox's, with short retry waits and a 1 s timeout."""
    for name, conn in sandbox.connections().items():
        conn = {**conn, "extra": {**conn["extra"], **FAST}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}_FAST", json.dumps(conn))
    return {name: f"{name}_fast" for name in sandbox.connections()}


@pytest.fixture
def unchanged(sandbox):
    """Assert, at the end of the test, that no vendor object was created."""
    before = sandbox.state()
    yield
    assert sandbox.state() == before


def environ_conn(name: str) -> dict:
    return json.loads(os.environ[f"AIRFLOW_CONN_{name.upper()}"])
