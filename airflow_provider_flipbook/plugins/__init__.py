"""Airflow plugins shipped with the provider (listed under ``plugins`` in the provider info)."""
