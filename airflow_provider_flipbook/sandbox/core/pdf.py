"""PDF intake for the emulators, written once.

Fetch a file by URL as the vendors do, and read it (pages, encryption, XFA) with pypdf directly. A
referee that judged uploads with the package's own reader (``utils.pdf``) would agree with that
reader's bugs, so this one shares no code with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, WrongPasswordError

if TYPE_CHECKING:
    from pathlib import Path


class UnreadablePdf(ValueError):
    """What the vendor would refuse as no PDF: empty, no ``%PDF-`` header, damaged, no pages."""


@dataclass(frozen=True)
class PdfFile:
    """What a vendor learns of an uploaded PDF: its size, pages (0 while locked), encryption, XFA."""

    size: int
    pages: int
    encrypted: bool
    xfa: bool


def inspect_file(path: Path, name: str, password: str | None = None) -> PdfFile:
    """Read the PDF stored at ``path``; raises :class:`UnreadablePdf` for what is no PDF."""
    size = path.stat().st_size
    if size == 0:
        raise UnreadablePdf(f"{name} is empty")
    with path.open("rb") as stream:
        if b"%PDF-" not in stream.read(1024):
            raise UnreadablePdf(f"{name} is not a PDF")
        stream.seek(0)
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            reader = PdfReader(stream, strict=False)
            encrypted = bool(reader.is_encrypted)
            if encrypted:
                if not password:
                    return PdfFile(size, 0, True, False)
                if not reader.decrypt(password):
                    raise WrongPasswordError
            pages = len(reader.pages)
            catalog = reader.trailer["/Root"].get_object()
            form = catalog.get("/AcroForm") if isinstance(catalog, dict) else None
            form = form.get_object() if form is not None else None
            xfa = isinstance(form, dict) and form.get("/XFA") is not None
        except (WrongPasswordError, FileNotDecryptedError):
            raise UnreadablePdf(f"{name} is encrypted and the password does not open it") from None
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise UnreadablePdf(f"{name} is damaged ({type(error).__name__})") from None
    if pages == 0:
        raise UnreadablePdf(f"{name} has no pages")
    return PdfFile(size, pages, encrypted, xfa)


async def fetch_url(url: str, path: Path) -> str | None:
    """Fetch a PDF by URL as the vendors do; return an error text, or None.

    Redirects are followed and any 200 body is taken as the file. Loopback URLs work, so tests can serve
    files.
    """
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
