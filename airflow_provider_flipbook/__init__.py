"""Apache Airflow provider for FlippingBook Online, Flipsnack, iPaper and Papyrs."""

from __future__ import annotations

__version__ = "0.1.0"
