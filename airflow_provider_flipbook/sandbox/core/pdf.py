"""PDF intake for the emulators, written once: fetch a file by URL as the vendors do, and inspect it
(pages, encryption, XFA) with the project's own reader."""

from __future__ import annotations

from pathlib import Path

import httpx

from airflow_provider_flipbook.utils.pdf import PdfFacts, inspect_pdf


def inspect_file(path: Path, name: str, password: str | None = None) -> PdfFacts:
    """Facts about the PDF stored at ``path``; raises ``InvalidInputError`` for what is no PDF."""
    with path.open("rb") as stream:
        return inspect_pdf(stream, name, password=password)


async def fetch_url(url: str, path: Path) -> str | None:
    """Fetch a PDF by URL as the vendors do (redirects followed, any 200 body taken as the file);
    return an error text, or None. Loopback URLs work, so tests can serve files."""
    try:
        async with httpx.AsyncClient(follow_redirects=True, timeout=60) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    return f"the URL answered HTTP {response.status_code}"
                with path.open("wb") as out:
                    async for chunk in response.aiter_bytes(1 << 20):
                        out.write(chunk)
    except httpx.HTTPError as error:
        return f"the URL could not be fetched ({type(error).__name__})"
    return None
