"""One way to declare an emulator's routes: ``@route(method, target)`` on a handler method.

``target`` is the vendor's own address of the operation: a URL path (FlippingBook), a path pattern
(Papyrs), an ``action`` name (Flipsnack) or ``Service/Method`` (iPaper). Each emulator reads its
declared routes with :func:`declared_routes` and wires them to its transport; :func:`answered` runs a
handler and turns a :class:`~.errors.VendorError` into the vendor's own error answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_flipbook.sandbox.core.errors import VendorError

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class Route:
    """One declared vendor operation and the bound handler that answers it."""

    method: str
    target: str
    handler: Callable[..., Any]


def route(method: str, target: str) -> Callable[[Handler], Handler]:
    """Declare the decorated emulator method as the handler of ``method target`` (stackable)."""

    def mark(handler: Handler) -> Handler:
        handler.__dict__.setdefault("_routes", []).append((method, target))
        return handler

    return mark


def declared_routes(emulator: object) -> list[Route]:
    """Every route declared on the emulator's class and its bases, in declaration order."""
    routes: list[Route] = []
    seen: set[str] = set()
    for cls in reversed(type(emulator).__mro__):
        for name, member in vars(cls).items():
            if name in seen or not hasattr(member, "_routes"):
                continue
            seen.add(name)
            routes += [Route(m, t, getattr(emulator, name)) for m, t in member._routes]
    return routes


async def answered(handler: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a handler (plain or async); a :class:`VendorError` it raises becomes its response."""
    try:
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
    except VendorError as error:
        return error.response()
    return result
