"""Shared by the doctor's tests: running it, reading its JSON, the sandbox's secrets."""

from __future__ import annotations

import json
import socket

import requests

from airflow_provider_flipbook.doctor import CHECK_IDS, main

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
