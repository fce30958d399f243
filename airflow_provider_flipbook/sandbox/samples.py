"""Sample documents for the demo and the example DAGs: real multi-page PDFs, generated here.

``python -m airflow_provider_flipbook.sandbox.samples <folder>`` writes ``annual-report.pdf`` and a
``catalogue/`` of three seasonal PDFs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from airflow_provider_flipbook.utils.pdf import make_sample_pdf

SAMPLES = {
    "annual-report.pdf": (12, "Annual report 2026"),
    "catalogue/spring-collection.pdf": (8, "Spring collection"),
    "catalogue/summer-collection.pdf": (10, "Summer collection"),
    "catalogue/price-list.pdf": (3, "Price list"),
}


def write_samples(folder: str | Path) -> list[Path]:
    root = Path(folder)
    written = []
    for name, (pages, title) in SAMPLES.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            make_sample_pdf(target, pages, title)
        written.append(target)
    return written


if __name__ == "__main__":
    for path in write_samples(sys.argv[1] if len(sys.argv) > 1 else "samples"):
        print(path)
