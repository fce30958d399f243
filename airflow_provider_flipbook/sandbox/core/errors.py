"""One base for the vendors' error answers: each vendor's exception carries its own answer shape."""

from __future__ import annotations

from starlette.responses import Response


class VendorError(Exception):
    """An answer in the vendor's own error shape, raised anywhere in a handler.

    The route wrapper (:func:`~.routing.answering`) turns it into :meth:`response`.
    """

    def response(self) -> Response:
        raise NotImplementedError
