"""The sandbox's vendors, declared once.

The server mounts, the state counts, the CLI takes the credentials of, and ``/_sandbox/connections``
lists every emulator here, in this order.

A vendor's emulator declares the rest itself (:class:`~.core.emulator.VendorEmulator`): its name, the
credentials it accepts, the Airflow connection that points at it and the apps it serves.
"""

from __future__ import annotations

from airflow_provider_flipbook.sandbox.core.emulator import VendorEmulator
from airflow_provider_flipbook.sandbox.flippingbook.routes import FlippingBookEmulator
from airflow_provider_flipbook.sandbox.flipsnack.routes import FlipsnackEmulator
from airflow_provider_flipbook.sandbox.ipaper.routes import IPaperEmulator
from airflow_provider_flipbook.sandbox.papyrs.routes import PapyrsEmulator

EMULATORS: list[type[VendorEmulator]] = [
    FlippingBookEmulator,
    FlipsnackEmulator,
    IPaperEmulator,
    PapyrsEmulator,
]
