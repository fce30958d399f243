"""Offset paging, the same for every vendor that pages by offset and count."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

T = TypeVar("T")
log = logging.getLogger(__name__)


class Page(list[T]):
    """One page of an offset-paged list, with the vendor's count of the whole list where it gives one.

    ``total`` is None when the vendor gives none, or none that can be told from this page's own length.
    With a total, paging stops once that many entries are read, instead of asking for an empty page.

    :param entries: the page's entries
    :param total: the whole list's length as the vendor counts it, or None
    """

    def __init__(self, entries: Iterable[T] = (), total: int | None = None) -> None:
        super().__init__(entries)
        self.total = total


def paged(
    fetch: Callable[[int, int], Sequence[T]], page_size: int, *, max_pages: int = 10_000
) -> Iterable[T]:
    """Iterate an offset-paged list: ``fetch(offset, count)`` until a short page comes back.

    A vendor that ignores the offset would repeat a page forever: a page equal to the previous one
    ends the loop with a warning, and so does ``max_pages`` (never silently: the list may be cut).
    """
    offset, previous = 0, None
    for _ in range(max_pages):
        page = fetch(offset, page_size)
        if page and page == previous:
            log.warning(
                "Paging stopped: the page at offset %s repeats the previous one (the vendor seems to ignore "
                "the offset); the list may be incomplete",
                offset,
            )
            return
        yield from page
        if len(page) < page_size:
            return
        offset, previous = offset + len(page), page
    log.warning("Paging stopped after %s pages of %s: the list may be incomplete", max_pages, page_size)
