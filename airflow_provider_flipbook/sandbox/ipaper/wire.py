"""The iPaper emulator's wire format, written from iPaper's documents.

The ``<result>`` envelope, a streaming ``application/x-www-form-urlencoded`` reader (big base64 fields
go straight to disk), form parameters with ASMX-style errors, and the ``xmlOptions`` reader.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_plus, unquote_to_bytes

from fastapi import Request
from lxml import etree

from airflow_provider_flipbook.sandbox.ipaper.answers import AsmxFault, ResultCode

STREAMED_FIELDS = {"base64Pdf", "base64File"}
MAX_FIELD = 1 << 20


class StreamedBase64:
    """Percent-decode then base64-decode a form value arriving in pieces, writing bytes to disk."""

    def __init__(self, path) -> None:
        self.path, self.out, self.pending, self.b64 = path, open(path, "wb"), b"", b""
        self.valid, self.size = True, 0

    def feed(self, piece: bytes) -> None:
        data = self.pending + piece
        cut = data.rfind(b"%", max(len(data) - 2, 0))
        data, self.pending = (data[:cut], data[cut:]) if cut != -1 else (data, b"")
        self.b64 += re.sub(rb"\s", b"", unquote_to_bytes(data.replace(b"+", b" ")))
        usable = len(self.b64) - len(self.b64) % 4
        self._write(self.b64[:usable])
        self.b64 = self.b64[usable:]

    def _write(self, chunk: bytes) -> None:
        if not chunk or not self.valid:
            return
        try:
            decoded = base64.b64decode(chunk, validate=True)
        except (binascii.Error, ValueError):
            self.valid = False
            return
        self.out.write(decoded)
        self.size += len(decoded)

    def close(self) -> None:
        self.feed(b"")
        if self.b64:
            self._write(self.b64 + b"=" * (-len(self.b64) % 4))
        self.out.close()
        if self.size == 0:
            self.valid = False


async def read_form(request: Request, new_file) -> tuple[dict[str, str], dict[str, StreamedBase64]]:  # noqa: C901 - a byte-level state machine, clearer in one piece
    """Read an ``application/x-www-form-urlencoded`` body as a stream (big base64 fields go to disk)."""
    fields: dict[str, str] = {}
    files: dict[str, StreamedBase64] = {}
    name, value = bytearray(), bytearray()
    in_value, target = False, None

    def finish() -> None:
        nonlocal in_value, target
        key = unquote_plus(name.decode("latin-1"))
        if target is not None:
            target.close()
        elif key:
            fields[key] = unquote_plus(value.decode("latin-1"), encoding="utf-8")
        name.clear()
        value.clear()
        in_value, target = False, None

    async for chunk in request.stream():
        i = 0
        while i < len(chunk):
            if not in_value:
                match = re.compile(rb"[=&]").search(chunk, i)
                if match is None:
                    name.extend(chunk[i:])
                    break
                name.extend(chunk[i : match.start()])
                i = match.end()
                if match.group() == b"&":
                    finish()
                    continue
                in_value = True
                key = unquote_plus(name.decode("latin-1"))
                if key in STREAMED_FIELDS:
                    target = files[key] = StreamedBase64(new_file(".bin"))
            else:
                end = chunk.find(b"&", i)
                piece = chunk[i:] if end == -1 else chunk[i:end]
                if target is not None:
                    target.feed(piece)
                elif len(value) + len(piece) <= MAX_FIELD:
                    value.extend(piece)
                if end == -1:
                    break
                finish()
                i = end + 1
    if name or in_value:
        finish()
    return fields, files


class FormParams:
    """A method's form (or query) fields as ASMX binds them, and its streamed base64 fields apart."""

    def __init__(self, fields: dict[str, str], files: dict[str, StreamedBase64]) -> None:
        self.fields, self.files = fields, files

    def get(self, key: str) -> str | None:
        return self.fields.get(key)

    def required(self, key: str) -> str:
        if key not in self.fields:
            raise AsmxFault(500, f"Missing parameter: {key}.")
        return self.fields[key]

    def int(self, key: str) -> int:
        value = self.required(key)
        try:
            return int(value)
        except ValueError:
            raise AsmxFault(500, f"Cannot convert {value} to System.Int32.\nParameter name: {key}") from None


def xml_option(options_xml: str, name: str) -> str | None:
    if not options_xml.strip():
        return None
    try:
        root = etree.fromstring(
            options_xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        raise ResultCode("ERROR", "xmlOptions is not valid XML.") from None
    found = root.find(name)
    return found.text if found is not None else None
