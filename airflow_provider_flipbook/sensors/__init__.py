"""Sensors. The generic one is here; a vendor's own are in its module (``sensors/<conn type>.py``)."""

from airflow_provider_flipbook.sensors.conversion import PdfConversionSensor

__all__ = ["PdfConversionSensor"]
