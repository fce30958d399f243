"""utils.paging.paged: a vendor that ignores a paging parameter ends the loop with a warning, never hangs."""

from __future__ import annotations

import logging

from airflow_provider_flipbook.utils.paging import paged

ITEMS = [{"id": n} for n in range(7)]


def test_offset_paging_reads_every_item_and_stops_on_a_short_page():
    calls = []

    def fetch(offset, count):
        calls.append((offset, count))
        return ITEMS[offset : offset + count]

    assert list(paged(fetch, 3)) == ITEMS
    assert calls == [(0, 3), (3, 3), (6, 3)]


def test_a_vendor_ignoring_the_offset_stops_after_one_repeat_with_a_warning(caplog):
    calls = []

    def fetch(offset, count):
        calls.append(offset)
        return ITEMS[:count]  # always the first page

    with caplog.at_level(logging.WARNING):
        assert list(paged(fetch, 3)) == ITEMS[:3]
    assert calls == [0, 3]
    assert "repeats the previous one" in caplog.text and "incomplete" in caplog.text


def test_a_vendor_ignoring_the_count_is_followed_by_what_it_returned():
    def fetch(offset, count):
        return ITEMS[offset : offset + 5]  # its own page size, larger than asked

    assert list(paged(fetch, 2)) == ITEMS


def test_the_loop_is_capped_with_a_warning(caplog):
    def fetch(offset, count):
        return [{"id": offset + n} for n in range(count)]  # endless, never repeating

    with caplog.at_level(logging.WARNING):
        items = list(paged(fetch, 2, max_pages=4))
    assert len(items) == 8
    assert "after 4 pages" in caplog.text
