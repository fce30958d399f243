"""Typed errors raised by the hooks.

Every error names the vendor, the operation, the HTTP status and the vendor's own code, so a task
log says what went wrong without anyone reading a response body. Messages are built by the hook
from parsed fields and pass through the hook's redaction: they never carry a credential.
"""

from __future__ import annotations

from airflow_provider_flipbook._compat import AirflowException


class VendorApiError(AirflowException):
    """A vendor answered with an error (or not at all)."""

    retryable = False

    def __init__(
        self,
        vendor: str,
        operation: str,
        message: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.vendor = vendor
        self.operation = operation
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"{self.vendor} {self.operation} failed"]
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code not in (None, ""):
            details.append(f"code {self.code}")
        if details:
            parts.append(" (" + ", ".join(details) + ")")
        return "".join(parts) + f": {self.message}"

    def __reduce__(self):  # keep keyword arguments across pickling (task runner, triggers)
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[VendorApiError], state: dict) -> VendorApiError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error


class TransientApiError(VendorApiError):
    """5xx, timeout or dropped connection: worth retrying.

    ``unsent`` is true when the request provably never reached the vendor (the connection was
    refused or the name did not resolve): only then may a creating call be resent without a check.
    """

    retryable = True
    unsent = False


class OutcomeUnknownError(TransientApiError):
    """A creating call may have taken effect, but its answer was lost.

    Lost means a timeout after sending, a cut answer, a gateway error or another 5xx: look at what the
    vendor now holds before sending it again.
    """

    retryable = False


class RateLimitError(VendorApiError):
    """HTTP 429 or a vendor's rate-limit code; ``retry_after`` is the server's hint in seconds, if any."""

    retryable = True


class NotFoundError(VendorApiError):
    """The object does not exist (or belongs to another account)."""


class MalformedResponseError(VendorApiError):
    """The answer could not be read (truncated JSON, HTML error page, XML without a code, empty body)."""


class InvalidInputError(AirflowException):
    """Bad input detected before any remote call (missing file, not a PDF, over a vendor limit, ...)."""
