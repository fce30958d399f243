"""A local emulator of the FlippingBook, Flipsnack, iPaper and Papyrs APIs (see :mod:`.server`)."""

from airflow_provider_flipbook.sandbox.server import SandboxServer, connections, env_lines

__all__ = ["SandboxServer", "connections", "env_lines"]
