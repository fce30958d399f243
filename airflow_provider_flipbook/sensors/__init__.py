"""Sensors: PDF conversion, Flipsnack download package."""

from airflow_provider_flipbook.sensors.conversion import PdfConversionSensor
from airflow_provider_flipbook.sensors.flipsnack import FlipsnackDownloadPackageSensor

__all__ = ["FlipsnackDownloadPackageSensor", "PdfConversionSensor"]
