"""Extra links shown on task instances.

In Airflow 3 they are computed on the worker when the task finishes, from XCom alone. A vendor's own
link lives beside its operator (``operators/<conn type>.py``).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.execution_time.xcom import XCom

from airflow_provider_flipbook._compat import BaseOperatorLink
from airflow_provider_flipbook.utils.urls import public_url


class XComLink(BaseOperatorLink):
    """A link to the absolute URL a task pushed to XCom under ``key``."""

    key = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """Return the URL from XCom if it is absolute; otherwise none (a relative one opens Airflow's 404)."""
        return public_url(XCom.get_value(key=self.key, ti_key=ti_key)) or ""


class ViewFlipbookLink(XComLink):
    """The flipbook's viewer URL, from the upload task's XCom."""

    name = "View flipbook"
    key = "flipbook_url"
