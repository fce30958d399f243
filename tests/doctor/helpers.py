"""Shared by the doctor's tests: running it, reading its JSON, the sandbox's secrets."""

from __future__ import annotations

import json
import socket

import requests

from airflow_provider_flipbook.doctor import CHECK_IDS, main
from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.hooks.papyrs import PapyrsHook
from airflow_provider_flipbook.utils.pdf import make_sample_pdf

VENDORS = tuple(CHECK_IDS)
CONN_IDS = [f"{vendor}_default" for vendor in VENDORS]


def secrets_of(sandbox) -> list[str]:
    """Every credential of the sandbox, and every Flipsnack signature it received."""
    credentials = sandbox.state_store.credentials  # values() leaves out the Flipsnack key: we hide it too
    return [
        str(v)
        for v in (*credentials.values(), credentials.flipsnack_key, *sandbox.state_store.signatures)
        if v
    ]


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def results(output: str) -> dict[str, dict]:
    return {c["id"]: c for conn in json.loads(output)["connections"] for c in conn["checks"]}


def set_options(sandbox, options: dict) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/options", json=options, timeout=10)
    assert response.status_code == 200, response.text


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(state, folder, pdf_server, long_pdf) -> None:
    """Two objects per vendor, a tracked link, a Papyrs page in a folder with two form records, a
    custom field value and a long iPaper job, through the default connections (``AIRFLOW_CONN_*``)."""
    pdf = folder / "one.pdf"
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
    ipaper.process_pdf(paper, lambda: open(long_pdf, "rb"))
    ipaper.add_custom_field("Region", "string")
    ipaper.set_custom_field_value(paper, "Region", "North")
    page = PapyrsHook().create_page("doctor page", [[]], category="Reports")
    # The vendor offers no API to submit form records: put two in the emulator's store directly.
    state.vendors["papyrs"].state.records[str(page["id"])] = [
        {"field": "Name", "value": "Ada"},
        {"field": "Name", "value": "Grace"},
    ]
