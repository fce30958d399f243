"""``python -m airflow_provider_flipbook.doctor``: the ``flipbook-doctor`` command."""

import sys

from airflow_provider_flipbook.doctor.cli import main

sys.exit(main())
