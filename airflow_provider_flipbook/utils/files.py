"""Where a PDF comes from: a local path, any ObjectStoragePath/URI Airflow can read, or an http(s) URL.

http(s) files are downloaded (streamed) to a temporary file first, so they can be checked before
anything is created remotely; FlippingBook still receives the original URL.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from airflow_provider_flipbook.exceptions import InvalidInputError
from airflow_provider_flipbook.utils.pdf import PdfFacts, PdfLimits, inspect_pdf

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class PdfSource:
    """A PDF to upload, wherever it lives: a local file, an object-store path or an http(s) URL."""

    location: str
    name: str
    open: Callable[[], BinaryIO]
    http_url: str | None = None
    storage_path: Any = None
    _tempdir: str | None = field(default=None, repr=False)

    def signed_url(self, expires_in: int = 3600) -> str | None:
        """Return a short-lived URL of an object-store file, where its filesystem can sign one (s3, gcs)."""
        if self.storage_path is None:
            return None
        try:
            return self.storage_path.fs.sign(self.storage_path.path, expiration=expires_in)
        except (NotImplementedError, AttributeError, TypeError, ValueError):
            return None

    def cleanup(self) -> None:
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)


def storage_path(location: Any) -> Any:
    """Return an ObjectStoragePath for a path, a URI (s3://, gs://, file://...) or an ObjectStoragePath."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(location, ObjectStoragePath):
        return location
    text = os.fspath(location) if isinstance(location, os.PathLike) else str(location).strip()
    return ObjectStoragePath(text if "://" in text else "file://" + os.path.abspath(text))


def resolve_pdf(location: Any, *, timeout: float = 60.0) -> PdfSource:
    from airflow.sdk import ObjectStoragePath

    if isinstance(location, os.PathLike) and not isinstance(location, ObjectStoragePath):
        location = os.fspath(location)
    if isinstance(location, str):
        text = location.strip()
        if not text:
            raise InvalidInputError("pdf is empty: give a path, an ObjectStoragePath/URI or an http(s) URL")
        if text.lower().startswith(("http://", "https://")):
            return _download(text, timeout)
        location = storage_path(text)
    if not isinstance(location, ObjectStoragePath):
        raise InvalidInputError(
            f"pdf must be a path, URI, URL or ObjectStoragePath, got {type(location).__name__}"
        )
    path = location
    try:
        exists = path.exists() and path.is_file()
    except Exception as error:  # a filesystem that cannot even be asked
        raise InvalidInputError(f"cannot read {path}: {type(error).__name__}: {error}") from None
    if not exists:
        raise InvalidInputError(f"PDF {path} does not exist")
    return PdfSource(location=str(path), name=path.name, open=lambda: path.open("rb"), storage_path=path)


def _download(url: str, timeout: float) -> PdfSource:
    import requests

    tempdir = tempfile.mkdtemp(prefix="flipbook-pdf-")
    name = Path(urlsplit(url).path).name or "document.pdf"
    target = Path(tempdir) / name
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise InvalidInputError(f"PDF URL answered HTTP {response.status_code}: {_safe(url)}")
            with target.open("wb") as out:
                for chunk in response.iter_content(1 << 20):
                    out.write(chunk)
    except requests.RequestException as error:
        shutil.rmtree(tempdir, ignore_errors=True)
        raise InvalidInputError(
            f"PDF URL could not be fetched ({type(error).__name__}): {_safe(url)}"
        ) from None
    except InvalidInputError:
        shutil.rmtree(tempdir, ignore_errors=True)
        raise
    return PdfSource(location=url, name=name, open=lambda: target.open("rb"), http_url=url, _tempdir=tempdir)


def _safe(url: str) -> str:
    """Return a URL without its query string (signed URLs carry credentials there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def check_pdf(source: PdfSource, limits: PdfLimits, vendor: str, password: str | None = None) -> PdfFacts:
    """Check a PDF against the vendor's documented limits before any remote call; return its facts.

    Everything that can be known locally is checked.
    """
    if password and not limits.accepts_password:
        raise InvalidInputError(f"{vendor} does not take PDF passwords; upload an unencrypted PDF")
    with source.open() as stream:
        facts = inspect_pdf(stream, source.name, password=password)
    if facts.encrypted and not password:
        hint = " (give pdf_password)" if limits.accepts_password else f" ({vendor} accepts no protected PDFs)"
        raise InvalidInputError(f"{source.name} is encrypted{hint}")
    if facts.xfa and not limits.accepts_xfa:
        raise InvalidInputError(
            f"{source.name} contains an XFA form, which {vendor} does not accept: flatten it "
            "or save it as a plain (or AcroForm) PDF first"
        )
    if facts.size > limits.max_bytes:
        raise InvalidInputError(
            f"{source.name} is {facts.size:,} bytes; {vendor} takes at most {limits.max_bytes:,}"
        )
    if limits.max_pages and facts.pages > limits.max_pages:
        raise InvalidInputError(
            f"{source.name} has {facts.pages} pages; {vendor} takes at most {limits.max_pages}"
        )
    return facts
