"""Flipsnack signatures over real titles: spaces, ``+``, ``&``, ``=``, ``%`` and non-ASCII.

The document's rule (developers.flipsnack.com/how-to-sign-a-request): sort the request parameters by
name leaving out ``signature`` and ``file``, concatenate the secret key then each name and value,
MD5. It names the *request parameters*, so a value is signed as the vendor's server reads it back:
decoded from the query string or the multipart field, UTF-8, never as its URL encoding. The vendor's
worked example is extended here with such values, and the wire is checked to decode to what was signed.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs

import pytest

from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook, sign

SECRET = "123ABCDE-456-7890-FGH"  # the document's example credentials and hash
EXAMPLE = {"action": "collection.getCollection", "collectionHash": "fxh4k89", "apiKey": "45FD-267-7SG7832"}
TITLES = ["Spring & Summer + Sale", "Prices = 10% off", "Ünïcode Katalog — 2026 ✓", "a+b&c=d %2B"]


def test_the_vendors_worked_example():
    assert sign(SECRET, EXAMPLE) == "26e781d3d1751d82ec284acf4a019def"


@pytest.mark.parametrize("title", TITLES)
def test_the_worked_example_extended_with_a_real_title_signs_the_raw_value(title):
    # The string to hash, written out by the document's rule: secret, then name+value sorted by name.
    expected = hashlib.md5(  # noqa: S324 - the vendor's scheme
        (
            "123ABCDE-456-7890-FGH"
            "actioncollection.getCollection"
            "apiKey45FD-267-7SG7832"
            "collectionHashfxh4k89"
            f"title{title}"
        ).encode()
    ).hexdigest()
    assert sign(SECRET, {**EXAMPLE, "title": title}) == expected


@pytest.mark.parametrize("title", TITLES)
def test_a_query_with_a_real_title_is_accepted_and_decodes_to_what_was_signed(sandbox, title):
    hook = FlipsnackHook()
    assert list(hook.iter_collections(query=title)) == []  # code 44 would raise
    sent = [r for r in sandbox.requests("flipsnack") if "collection.getList" in r.query][-1]
    assert parse_qs(sent.query)["query"] == [title]


@pytest.mark.parametrize("title", TITLES[:3])
def test_an_upload_with_a_real_title_is_accepted(sandbox, samples, title):
    hook = FlipsnackHook()
    created = hook.create_collection(
        open_file=lambda: samples["small"].open("rb"), filename="small.pdf", title=title
    )
    assert hook.get_collection(created["collectionHash"])["collectionTitle"] == title
