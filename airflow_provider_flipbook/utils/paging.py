"""Offset paging, the same for every vendor that pages by offset and count."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

T = TypeVar("T")
log = logging.getLogger(__name__)


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
