"""PDF checks with pypdf, shared by the operators (before any upload) and the sandbox (conversion).

pypdf reads the cross-reference table and the page tree only, so checking a 400 MB PDF does not
load it into memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, BinaryIO

from airflow_provider_flipbook.exceptions import InvalidInputError


@dataclass(frozen=True)
class PdfFacts:
    """What pypdf tells of a PDF without loading it: size, pages, encryption, XFA."""

    size: int
    pages: int
    encrypted: bool
    xfa: bool = False  # an XFA form (/AcroForm with /XFA): FlippingBook refuses these


@dataclass(frozen=True)
class PdfLimits:
    """What a vendor documents it accepts; checked locally before any remote call."""

    max_bytes: int
    max_pages: int | None
    accepts_password: bool
    accepts_xfa: bool = True


def has_xfa(reader: Any) -> bool:
    """Whether the document catalog's interactive form carries XFA, which some vendors refuse."""
    form = reader.trailer["/Root"].get("/AcroForm")
    form = form.get_object() if form is not None else None
    return bool(form is not None and hasattr(form, "get") and form.get("/XFA") is not None)


def inspect_pdf(stream: BinaryIO, name: str, *, password: str | None = None) -> PdfFacts:
    """Page count and encryption of a seekable PDF stream; ``InvalidInputError`` if it is not a PDF."""
    from pypdf import PdfReader  # heavy: imported when a PDF is actually read, never at DAG parse time
    from pypdf.errors import FileNotDecryptedError, PdfReadError, WrongPasswordError

    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise InvalidInputError(f"{name} is empty (0 bytes)")
    if not stream.read(1024).lstrip().startswith(b"%PDF-"):
        raise InvalidInputError(f"{name} is not a PDF (it does not start with %PDF-)")
    stream.seek(0)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns loudly about harmless quirks
    try:
        reader = PdfReader(stream, strict=False)
        encrypted = reader.is_encrypted
        if encrypted:
            if not password:
                return PdfFacts(size=size, pages=0, encrypted=True)
            if not reader.decrypt(password):
                raise InvalidInputError(f"{name} is encrypted and the given password does not open it")
        pages = len(reader.pages)
        xfa = has_xfa(reader)
    except (WrongPasswordError, FileNotDecryptedError):
        raise InvalidInputError(f"{name} is encrypted and the given password does not open it") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidInputError(f"{name} is not a readable PDF ({type(error).__name__}: {error})") from None
    if pages == 0:
        raise InvalidInputError(f"{name} has no pages (truncated or damaged?)")
    return PdfFacts(size=size, pages=pages, encrypted=encrypted, xfa=xfa)


def make_sample_pdf(
    path,
    pages: int,
    title: str = "Sample",
    *,
    encrypt_with: str | None = None,
    pad_to_bytes: int = 0,
    xfa: bool = False,
) -> None:
    """Write a real multi-page PDF with a visible title and page numbers (demo and tests).

    ``pad_to_bytes`` appends an unused stream object, for size benchmarks without page counts
    to match. ``xfa`` adds an interactive form with a (minimal) XFA packet, as forms designers write.
    """
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    for number in range(1, pages + 1):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
        content = DecodedStreamObject()
        safe = title.replace("(", "[").replace(")", "]").replace("\\", "/")
        content.set_data(
            f"BT /F1 28 Tf 72 760 Td ({safe}) Tj ET\nBT /F1 14 Tf 72 720 Td (Page {number} of {pages}) Tj ET\n"
            f"0.2 0.4 0.8 rg 72 120 451 {40 + (number * 37) % 400} re f\n".encode()
        )
        page[NameObject("/Contents")] = writer._add_object(content)
    if pad_to_bytes:
        filler = DecodedStreamObject()
        filler.set_data(b"%" * pad_to_bytes)
        writer._add_object(filler)
    if xfa:
        from pypdf.generic import ArrayObject

        packet = DecodedStreamObject()
        packet.set_data(
            b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template '
            b'xmlns="http://www.xfa.org/schema/xfa-template/3.3/"/></xdp:xdp>'
        )
        writer._root_object[NameObject("/AcroForm")] = writer._add_object(
            DictionaryObject(
                {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): writer._add_object(packet)}
            )
        )
    if encrypt_with:
        writer.encrypt(user_password=encrypt_with, algorithm="AES-128")
    with open(path, "wb") as out:
        writer.write(out)
