"""A local emulator of the FlippingBook, Flipsnack, iPaper and Papyrs APIs (see :mod:`.server`).

Imports are lazy: the pytest plugin loads this package before a project's conftest has set up
Airflow's environment, so importing it must not import Airflow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SandboxServer", "connections", "env_lines"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from airflow_provider_flipbook.sandbox import server

        return getattr(server, name)
    raise AttributeError(name)
