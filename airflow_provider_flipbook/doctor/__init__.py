"""flipbook-doctor: the conformance table's assumptions checked against your own account.

``cli`` is the command; ``checks`` what every vendor's checks share; one module per vendor holds that
vendor's checks as plain functions; ``recording`` writes what the account answered (``--record``).
"""

from airflow_provider_flipbook.doctor.cli import CHECK_IDS, main

__all__ = ["CHECK_IDS", "main"]
