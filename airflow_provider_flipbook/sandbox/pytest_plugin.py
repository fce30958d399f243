"""pytest plugin (registered through the ``pytest11`` entry point): the ``flipbook_sandbox`` fixture.

It starts the sandbox once per test session on a free loopback port and points the four default
connections (``flippingbook_default``, ``flipsnack_default``, ``ipaper_default``,
``papyrs_default``) at it through ``AIRFLOW_CONN_*`` variables. Use it in your own DAG tests::

    def test_my_dag(flipbook_sandbox):
        dag.test()
        assert flipbook_sandbox.state()["flippingbook"]["publications"] == 1

Speed: ``--flipbook-sandbox-speed`` (default 50) shortens conversions and rate-limit windows.
Your own account's shapes: ``--flipbook-sandbox-replay FILE`` (a recording made by ``flipbook-doctor
--record FILE``) plays the variants it shows for the whole session; ``flipbook_sandbox.replay(FILE)``
does it from a test.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the plugin loads before Airflow is set up: import the sandbox lazily
    from collections.abc import Iterator

    from airflow_provider_flipbook.sandbox.core.state import SandboxState


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--flipbook-sandbox-speed",
        type=float,
        default=50.0,
        help="time factor of the flipbook sandbox (default 50)",
    )
    parser.addoption(
        "--flipbook-sandbox-replay",
        default=None,
        metavar="FILE",
        help="play the variants of a recording of a real account (flipbook-doctor --record FILE)",
    )


class SandboxHandle:
    """What tests get from ``flipbook_sandbox``.

    The URL, the connections, the control API as methods, the running server (:attr:`server`) and its
    state (:attr:`state_store`).
    """

    def __init__(self, server: Any) -> None:
        self.server = server
        self.url = server.url
        self.state_store: SandboxState = server.state_store

    @property
    def sandbox(self) -> SandboxState:
        """The old name of :attr:`state_store`, kept for existing tests."""
        return self.state_store

    def connections(self) -> dict[str, dict[str, Any]]:
        return self.server.connections()

    def state(self) -> dict[str, dict[str, int]]:
        return self.state_store.state()

    def fault(self, vendor: str, kind: str = "status", **spec: Any) -> None:
        self.state_store.add_fault(vendor=vendor, kind=kind, **spec)

    def requests(self, vendor: str | None = None) -> list[Any]:
        return [e for e in self.state_store.log if vendor in (None, e.vendor)]

    def reset(self) -> None:
        self.state_store.reset()

    def replay(self, path: str | os.PathLike[str]) -> list[str]:
        """Play the variants a recording of a real account shows, kept across resets.

        Returns what cannot be played.

        :param path: a file written by ``flipbook-doctor --record``
        """
        from airflow_provider_flipbook.sandbox.core.replay import load, replay

        return replay(self.state_store, load(path))

    def forget_replay(self) -> None:
        """Back to the documents' defaults: the replayed options are dropped and every option reset."""
        self.state_store.replayed.clear()
        self.state_store.replayed_answers.clear()
        self.state_store.reset()

    def env(self) -> dict[str, str]:
        return {
            f"AIRFLOW_CONN_{name.upper()}_DEFAULT": json.dumps(conn)
            for name, conn in self.connections().items()
        }


@pytest.fixture(scope="session")
def flipbook_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxHandle]:
    from airflow_provider_flipbook.sandbox.server import SandboxServer

    server = SandboxServer(speed=request.config.getoption("--flipbook-sandbox-speed")).start()
    handle = SandboxHandle(server)
    recording = request.config.getoption("--flipbook-sandbox-replay")
    if recording:
        handle.replay(recording)
    saved = {key: os.environ.get(key) for key in handle.env()}
    os.environ.update(handle.env())
    try:
        yield handle
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
