"""A listing page's entries kept as undecoded JSON, out of the garbage collector's reach.

The account poll (``triggers/account_poll.py``) reads a vendor's status list every round: 2000
publications are two 1.6 MB JSON pages. Decoded as dicts and lists, a round is thousands of objects
the collector tracks; they outlive a young collection, so each round moved thousands of objects into
the oldest generation, and every few seconds that set off a full collection of the triggerer's whole
heap (Airflow's imports: 200-300 k objects, 0.07-0.14 s with the loop held).

So while a listing's page is decoded (:func:`entries_at`, set by ``Listing.fetch`` around the page
call), the array at the listing's path is left as one ``msgspec.Raw`` per entry (bytes, never
tracked); the rest of the body, the vendor's envelope included, is decoded as usual, and so is the
whole body when it does not have that shape, so the vendor's own checks see what they always saw and
fail naming it. An entry is decoded (:func:`decode_entry`) only when a wait reads it. msgspec is
already in every triggerer: Airflow's task SDK depends on it.
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_active = threading.local()
_fields = msgspec.json.Decoder(dict[str, msgspec.Raw])
_items = msgspec.json.Decoder(list[msgspec.Raw])


@contextmanager
def entries_at(path: tuple[str, ...]) -> Iterator[None]:
    """Leave the array at ``path`` of the JSON bodies decoded in this block (this thread) undecoded.

    :param path: the keys from the body down to the entries' array, e.g. ``("data", "collections")``
    """
    before = getattr(_active, "path", ())
    _active.path = path
    try:
        yield
    finally:
        _active.path = before


def decode_body(content: bytes, full: Callable[[], Any]) -> Any:
    """Decode a JSON body: lazily at the active listing path (:func:`entries_at`), else with ``full``.

    :param content: the body
    :param full: the usual decode (``response.json``)
    :raises ValueError: the body is not JSON
    """
    path = getattr(_active, "path", ())
    return _lazily(msgspec.Raw(content), path) if path else full()


def _lazily(raw: msgspec.Raw, path: tuple[str, ...]) -> Any:
    try:
        if not path:
            # copy: each entry its own small buffer, never a view that holds the whole page alive
            return [entry.copy() for entry in _items.decode(raw)]
        fields = _fields.decode(raw)
    except msgspec.ValidationError:  # not the listing's shape: decoded as usual, for the vendor to judge
        return msgspec.json.decode(raw)
    return {
        name: _lazily(value, path[1:]) if name == path[0] else msgspec.json.decode(value)
        for name, value in fields.items()
    }


def decode_entry(entry: Any) -> Any:
    """Return a listing entry as a dict (decoded now if it was left as JSON), or as it is.

    :param entry: an entry of a listing page, or None
    """
    return msgspec.json.decode(entry) if isinstance(entry, msgspec.Raw) else entry


@functools.cache
def key_reader(key: str) -> Callable[[Any], str]:
    """Return a function reading an entry's ``key`` field as text (``"None"`` when it has none).

    An undecoded entry is read for that field alone (a struct the collector does not track).

    :param key: the field that identifies an entry, e.g. ``id``
    """
    field = msgspec.defstruct("Key", [("value", Any, msgspec.field(default=None, name=key))], gc=False)
    decoder = msgspec.json.Decoder(field)

    def read(entry: Any) -> str:
        if isinstance(entry, msgspec.Raw):
            try:
                return str(getattr(decoder.decode(entry), "value"))  # noqa: B009 (a defstruct)
            except msgspec.ValidationError:  # not an object: the round fails, naming what was seen
                raise ValueError(f"a listing entry is not a JSON object: {bytes(entry)[:80]!r}") from None
        return str(entry.get(key))

    return read


__all__ = ["decode_body", "decode_entry", "entries_at", "key_reader"]
