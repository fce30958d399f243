"""iPaper's answers, written from its per-method pages.

The ``<result>`` envelope with a documented return code, a method's successful answer (returned), its
error codes and ASMX faults (raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response
from lxml import etree

from airflow_provider_flipbook.sandbox.core.errors import SuccessRaised, VendorError


@dataclass
class Answer:
    """A method's answer: a documented return code (``SUCCESS`` unless it says otherwise), message, data."""

    code: str = "SUCCESS"
    message: str = ""
    data: etree._Element | None = None

    def response(self) -> Response:
        return Response(result_xml(self.code, self.message, self.data), media_type="text/xml; charset=utf-8")


def success(message: str = "", data: etree._Element | None = None) -> Answer:
    """Return the ``SUCCESS`` answer a method returns."""
    return Answer("SUCCESS", message, data)


class ResultCode(VendorError):
    """A documented return code other than success (``ERROR``, ``PAPER_DOES_NOT_EXIST``...), raised to end a method."""

    def __init__(self, code: str, message: str = "", data: etree._Element | None = None) -> None:
        if code == "SUCCESS":
            raise SuccessRaised(code)
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def response(self) -> Response:
        return Response(result_xml(self.code, self.message, self.data), media_type="text/xml; charset=utf-8")


class AsmxFault(VendorError):
    """An ASP.NET web service fault: plain text with HTTP ``status`` (500 for binding errors, 404)."""

    def __init__(self, status: int, text: str) -> None:
        if status < 400:
            raise SuccessRaised(status)
        super().__init__(text)
        self.status, self.text = status, text

    def response(self) -> Response:
        return Response(self.text, self.status, media_type="text/plain; charset=utf-8")


def result_xml(code: str, message: str = "", data: etree._Element | None = None) -> bytes:
    """Write the documented ``<result>`` envelope: code and message in (padded) CDATA, then ``data``."""
    data_xml = etree.tostring(data, encoding="unicode") if data is not None else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<result>\n  <code>\n    <![CDATA[ {code} ]]>\n  </code>\n'
        f"  <message><![CDATA[{message}]]></message>\n  {data_xml}\n</result>\n"
    ).encode()


def element(tag: str, text: str | None = None, **attrs: Any) -> etree._Element:
    """Build an XML element as iPaper writes it: text in CDATA, ``_`` in attribute names as ``-``, no None."""
    node = etree.Element(tag, {k.replace("_", "-"): str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = etree.CDATA(text)
    return node


def in_data(node: etree._Element) -> etree._Element:
    """``node`` inside the answer's ``<data>`` element."""
    data = element("data")
    data.append(node)
    return data
