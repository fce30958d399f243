"""Operators. The generic one is here; a vendor's own are in its module (``operators/<conn type>.py``)."""

from airflow_provider_flipbook.operators.upload import UploadPdfOperator

__all__ = ["UploadPdfOperator"]
