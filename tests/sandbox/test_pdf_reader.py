"""The sandbox's own PDF reader (pypdf directly, no code shared with the operators' check): what the
emulated vendors learn of an upload."""

from __future__ import annotations

import pytest

from airflow_provider_flipbook.sandbox.core.pdf import PdfFile, UnreadablePdf, inspect_file


@pytest.mark.parametrize(
    "sample, expected",
    [
        ("small", (4, False, False)),
        ("three", (3, False, False)),
        ("long", (400, False, False)),
        ("xfa", (2, False, True)),
        ("encrypted", (0, True, False)),  # locked: the vendor cannot count its pages
    ],
)
def test_pages_encryption_and_xfa(samples, sample, expected):
    facts = inspect_file(samples[sample], sample)
    assert (facts.pages, facts.encrypted, facts.xfa) == expected
    assert facts.size == samples[sample].stat().st_size


def test_an_encrypted_pdf_opens_with_its_password_only(samples):
    assert inspect_file(samples["encrypted"], "e", password="open-sesame") == PdfFile(
        samples["encrypted"].stat().st_size, 2, True, False
    )
    with pytest.raises(UnreadablePdf, match="password does not open it"):
        inspect_file(samples["encrypted"], "e", password="wrong")


@pytest.mark.parametrize(
    "sample, message", [("empty", "is empty"), ("not_pdf", "is not a PDF"), ("truncated", "damaged|no pages")]
)
def test_what_is_no_pdf_is_refused(samples, sample, message):
    with pytest.raises(UnreadablePdf, match=message):
        inspect_file(samples[sample], sample)
