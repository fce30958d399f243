"""One base for the vendors' error answers: each vendor's exception carries its own answer shape."""

from __future__ import annotations

from starlette.responses import Response


class VendorError(Exception):
    """An answer in the vendor's own error shape, raised anywhere in a handler.

    The route wrapper (:func:`~.routing.answered`) turns it into :meth:`response`. A success is never
    one: a handler returns its success, and each vendor's error refuses a success code
    (:class:`SuccessRaised`).
    """

    def response(self) -> Response:
        raise NotImplementedError


class SuccessRaised(ValueError):
    """A vendor error built with a success code or status: a success is returned, never raised."""

    def __init__(self, success: object) -> None:
        super().__init__(f"{success!r} is a success: return it, do not raise it")
