"""Fixtures of the doctor's tests: connection variants and a seeded sandbox."""

from __future__ import annotations

import json

import pytest

from tests.doctor.helpers import seed


@pytest.fixture
def connection(sandbox, monkeypatch):
    """``connection(vendor, conn_id, **changes)``: the sandbox's connection with changes, as ``conn_id``."""

    def make(vendor: str, conn_id: str, **changes) -> str:
        conn = {**sandbox.connections()[vendor], **changes}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return make


@pytest.fixture
def seeded(sandbox, tmp_path, pdf_server, samples):
    """The sandbox with something for every read check to read (see :func:`seed`)."""
    seed(sandbox.state_store, tmp_path, pdf_server, samples["long"])
    return sandbox
