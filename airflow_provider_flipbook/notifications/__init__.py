"""Notifiers: failure callbacks and deadline-alert callbacks that report to a vendor (Papyrs)."""

from __future__ import annotations

from airflow_provider_flipbook.notifications.papyrs import PapyrsNotifier, send_papyrs_notification

__all__ = ["PapyrsNotifier", "send_papyrs_notification"]
