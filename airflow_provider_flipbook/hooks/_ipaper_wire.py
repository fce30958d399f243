"""iPaper's wire format as the hook writes and reads it.

XPath text, streamed base64 form bodies of a known length, and the form values of options and periods
(the safe XML parser is :mod:`airflow_provider_flipbook.utils.safe_xml`). The sandbox's own reader and
writer are in ``sandbox/ipaper/wire.py``; the two share no code.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, BinaryIO

from lxml import etree

from airflow_provider_flipbook.exceptions import InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_CHUNK = 3 * 256 * 1024  # a multiple of 3: base64 pieces concatenate without inner padding


def text(node: etree._Element | None, path: str) -> str:
    return "" if node is None else str(node.xpath(f"string({path})")).strip()


def base64_form_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """URL-encoded base64 of a binary stream, chunk by chunk."""
    while chunk := stream.read(_CHUNK):
        yield base64.b64encode(chunk).replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")


class SizedBody:
    """A streamed body whose length is known up front.

    ``requests`` sends it with a ``Content-Length`` instead of chunked transfer encoding (it reads
    ``len()``).

    :param chunks: makes a fresh iterator of the body's pieces (one per attempt).
    :param length: the body's length, counted beforehand.
    """

    def __init__(self, chunks: Callable[[], Iterator[bytes]], length: int) -> None:
        self.chunks, self.length = chunks, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self.chunks():
            sent += len(chunk)
            if sent > self.length:
                break
            yield chunk
        if sent != self.length:  # the file changed between counting and sending
            raise InvalidInputError(
                f"the file changed while it was uploaded ({sent} bytes instead of {self.length})"
            )


def period(start: str, end: str) -> dict[str, Any]:
    """Build the statistics and publication-period parameters, whose names are Python keywords."""
    return {"from": start, "to": end}


def ripper_options(options: dict[str, Any] | None, password: str | None) -> str:
    root = etree.Element("options")
    for name, value in {**(options or {}), **({"password": password} if password else {})}.items():
        etree.SubElement(root, name).text = form_value(value)
    return etree.tostring(root, encoding="unicode")


def form_value(value: Any) -> str:
    """Write a value as a form field or option element holds it: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
