"""Fixtures of the doctor's tests: connection variants and a seeded sandbox."""

from __future__ import annotations

import json

import pytest

from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook
from airflow_provider_flipbook.utils.pdf import make_sample_pdf


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
    """Two objects per vendor, a tracked link, a Papyrs page in a folder with two form records, and a
    long iPaper job, so that every read check has something to read."""
    pdf = tmp_path / "one.pdf"
    make_sample_pdf(pdf, 1, "doctor")
    flippingbook = FlippingBookHook()
    for name in ("first", "second"):
        created = flippingbook.create_publication(
            name=name, url=pdf_server(pdf.read_bytes()), filename="one.pdf"
        )
        FlipsnackHook().create_collection(open_file=lambda: open(pdf, "rb"), filename="one.pdf", title=name)
    flippingbook.create_tracked_link("doctor link", publication_uid=created["id"])
    # A long job keeps one paper in GetProcessingPapers while the doctor runs (about a minute).
    ipaper = IPaperHook()
    paper = ipaper.create_paper(ipaper.get_paper_id_from_url("/") or 0, "long", "doctor-long")
    ipaper.process_pdf(paper, lambda: open(samples["long"], "rb"))
    ipaper.add_custom_field("Region", "string")
    ipaper.set_custom_field_value(paper, "Region", "North")
    page = PapyrsHook().create_page("doctor page", [[]], category="Reports")
    # The vendor offers no API to submit form records: put two in the emulator's store directly.
    sandbox.state_store.vendors["papyrs"].records[str(page["id"])] = [
        {"field": "Name", "value": "Ada"},
        {"field": "Name", "value": "Grace"},
    ]
    return sandbox
