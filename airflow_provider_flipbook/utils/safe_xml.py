"""The one safe XML parser for vendor answers (iPaper's, and the doctor's recordings of any vendor).

No entities resolved, no DTD loaded, no network, and any DOCTYPE or entity declaration refused outright
(XXE, "billion laughs").
"""

from __future__ import annotations

from lxml import etree

SAFE_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    strip_cdata=True,
)


def parse_xml(content: bytes) -> etree._Element:
    """Parse a vendor's XML answer safely; raise ``ValueError`` on anything but plain, well-formed XML."""
    head = content[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in content.upper():
        raise ValueError("XML with a DOCTYPE or entity declarations is refused")
    try:
        return etree.fromstring(content, SAFE_PARSER)
    except etree.XMLSyntaxError as error:
        raise ValueError(f"malformed XML ({error.msg})") from None
