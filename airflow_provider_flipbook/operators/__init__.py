"""Operators: UploadPdfOperator, CreateTrackedLinkOperator, PapyrsMarkdownPageOperator."""

from airflow_provider_flipbook.operators.flippingbook import CreateTrackedLinkOperator
from airflow_provider_flipbook.operators.papyrs import PapyrsMarkdownPageOperator
from airflow_provider_flipbook.operators.upload import UploadPdfOperator

__all__ = ["CreateTrackedLinkOperator", "PapyrsMarkdownPageOperator", "UploadPdfOperator"]
