"""The one transport every vendor hook uses: session, timeouts, pacing, retries and typed errors.

A vendor hook declares its defaults (base URL, rate limits) and implements ``_parse`` and
``_probe``; everything that touches the wire goes through :meth:`FlipbookBaseHook._request`.

Retries use tenacity. Retried: connection errors, timeouts, dropped connections, HTTP 5xx and
rate-limit answers (HTTP 429 or a vendor's own rate-limit code). A ``Retry-After`` header wins over
the exponential backoff, capped by ``max_retry_after``; a rate-limit answer without one waits one
pacing interval of the vendor's limit. Every request is paced first, so a well-behaved client rarely
sees a 429 at all.

The connection extras every hook understands (timeouts, retries, pacing) are declared in
:data:`airflow_provider_flipbook.connection_extras.TRANSPORT`. A creating call is resent only when it
provably never reached the vendor; :mod:`.exactly_once` holds that rule and ``create_once``.
"""

from __future__ import annotations

import functools
import hashlib
import time
from functools import cached_property
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import requests
import tenacity
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from airflow_provider_flipbook import __version__
from airflow_provider_flipbook.exceptions import (
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitError,
    TransientApiError,
    VendorApiError,
)
from airflow_provider_flipbook.hooks.connection import ConnectionSettings
from airflow_provider_flipbook.hooks.exactly_once import CreatesOnce, never_sent, safe_to_resend
from airflow_provider_flipbook.utils.listing_json import decode_body
from airflow_provider_flipbook.utils.pacing import hook_pacer, paced_limits
from airflow_provider_flipbook.utils.ratelimit import HookPacer, Limit, WaitElsewhere
from airflow_provider_flipbook.utils.urls import origin

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow.sdk import Connection
    from typing_extensions import Self

T = TypeVar("T")
USER_AGENT = f"airflow-provider-flipbook/{__version__} python-requests/{requests.__version__}"
MAX_ERROR_TEXT = 300


def parse_retry_after(value: str | None) -> float | None:
    """Read ``Retry-After`` as seconds (delta-seconds or an HTTP date, as urllib3 reads it); None if unreadable.

    :param value: the header's value, if any
    """
    try:
        return float(Retry().parse_retry_after(value)) if value else None
    except InvalidHeader:
        return None


class FlipbookBaseHook(CreatesOnce, ConnectionSettings):
    """Base of the four vendor hooks. Constructing one touches neither the network nor the database."""

    default_limits: ClassVar[tuple[Limit, ...]] = ()

    def __init__(
        self,
        conn_id: str | None = None,
        *,
        connection: Connection | None = None,
        extras: Mapping[str, Any] | None = None,
        on_event_loop: bool = False,
        **kwargs: Any,
    ) -> None:
        """Build the hook; neither the network nor the database is touched.

        :param conn_id: the Airflow connection (default: the vendor's ``*_default``)
        :param connection: the connection itself, when the caller has fetched it already
        :param extras: its extras, when the caller has read them already (async code: see :meth:`async_for`)
        :param on_event_loop: driven from an event loop through :meth:`acall`: the hook never sleeps
            (a pacing wait raises :class:`WaitElsewhere`) and tries each request once (``acall`` retries)
        """
        # Airflow builds hooks as ``HookClass(**{conn_name_attr: conn_id})`` (connection test, UI, get_hook).
        named = kwargs.pop(self.conn_name_attr, None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword arguments: {', '.join(sorted(kwargs))}"
            )
        if conn_id and named and conn_id != named:
            raise TypeError(
                f"{type(self).__name__}(): conn_id {conn_id!r} and {self.conn_name_attr} {named!r} differ"
            )
        super().__init__()
        self.conn_id = (
            conn_id
            or named
            or (connection.conn_id if connection is not None else None)
            or self.default_conn_name
        )
        setattr(self, self.conn_name_attr, self.conn_id)
        self._sleep: Callable[[float], None] = time.sleep  # tests swap it to record the waits
        self.on_event_loop = on_event_loop
        if connection is not None:
            self.__dict__["connection"] = connection
        if extras is not None:
            self.__dict__["extras"] = dict(extras)

    @classmethod
    async def async_for(cls, conn_id: str | None = None) -> Self:
        """Build the hook for async code (a trigger).

        The connection and its extras are fetched without blocking the event loop, and every call is
        made through :meth:`acall`.

        :param conn_id: the Airflow connection (default: the vendor's ``*_default``)
        """
        from airflow_provider_flipbook.hooks.event_loop import shared_connection

        conn_id = conn_id or cls.default_conn_name
        connection, extras = await shared_connection(conn_id)
        return cls(conn_id, connection=connection, extras=extras, on_event_loop=True)

    async def acall(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one of this hook's blocking methods from the event loop, as the triggerer needs it.

        Pacing is booked and awaited on the loop, the HTTP call runs in this provider's own small
        thread pool (never asyncio's default one), a retry back-off is awaited on the loop, and the
        call is given up after the connection's ``max_retries`` (or ``retry_deadline``) with the
        vendor's error. Cancelling the caller cancels any wait at once. Needs ``on_event_loop``.

        :param function: a method of this hook (or a function calling them), e.g. ``hook.get_source``
        :param args: its positional arguments
        :param kwargs: its keyword arguments
        :return: what ``function`` returns
        """
        from airflow_provider_flipbook.hooks.event_loop import call_on_loop

        if not self.on_event_loop:
            raise RuntimeError(f"{type(self).__name__}.acall needs a hook built with on_event_loop=True")
        return await call_on_loop(self, functools.partial(function, *args, **kwargs))

    def pacing_key(self) -> str:
        """Return what identifies one credential (hashed: the key itself is never kept in memory maps)."""
        return hashlib.sha256((self.connection.password or "").encode()).hexdigest()[:16]

    @cached_property
    def limits(self) -> tuple[Limit, ...]:
        """The limits this hook paces to (see :func:`~airflow_provider_flipbook.utils.pacing.paced_limits`)."""
        return paced_limits(self.default_limits, self.setting("rate_limit"), self.setting("pacing_speed"))

    @cached_property
    def pacer(self) -> HookPacer | None:
        """This credential's shared pacer, waiting with the hook's ``_pause``; None with ``pacing`` off."""
        if not self.setting("pacing"):
            return None
        return hook_pacer(
            (self.vendor, self.base_url, self.pacing_key(), repr(self.limits)),
            self.limits,
            self._pause,
            self.setting("pacing_scope"),
            self.setting("pacing_redis_conn_id"),
        )

    @cached_property
    def session(self) -> requests.Session:
        """One HTTP session per hook (connection reuse), with this provider's User-Agent."""
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return session

    def _auth(self) -> requests.auth.AuthBase | None:
        """Per-request auth object, so secrets never sit in a headers dict that might get logged."""
        return None

    # -- the request path -----------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        """Wait, the hook's one way: sleep, or on the event loop hand the wait back to it."""
        if self.on_event_loop:
            raise WaitElsewhere(seconds)
        self._sleep(seconds)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        return self.retry_wait(state.outcome.exception() if state.outcome else None, state.attempt_number)

    def retry_wait(self, error: BaseException | None, attempt: int) -> float:
        """Return the seconds to wait before retrying after ``error`` on the ``attempt``-th try.

        The vendor's ``Retry-After`` (capped by ``max_retry_after``), one pacing interval for a bare
        rate-limit answer, else exponential back-off with jitter.

        :param error: what the failed try raised
        :param attempt: 1 for the first try
        """
        if isinstance(error, VendorApiError) and error.retry_after is not None:
            return min(error.retry_after, self.setting("max_retry_after"))
        if isinstance(error, RateLimitError) and self.limits:
            # Told to slow down without a hint: wait one pacing interval (a token, a window slot).
            return max(limit.interval for limit in self.limits)
        first = self.setting("retry_min_wait")
        backoff = tenacity.wait_exponential_jitter(
            multiplier=first, jitter=first, max=self.setting("retry_max_wait")
        )
        return backoff(cast("tenacity.RetryCallState", SimpleNamespace(attempt_number=attempt)))

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        self.log.warning(
            "%s; retry %s of %s in %.1f s",
            error,
            state.attempt_number,
            self.max_retries,
            state.next_action.sleep if state.next_action else 0.0,
        )

    def _request(
        self,
        operation: str,
        method: str,
        url: str,
        parse: Callable[[requests.Response], T],
        *,
        params: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        data: Any = None,
        json: Any = None,
        headers: dict[str, str] | Callable[[], dict[str, str]] | None = None,
        body: Callable[[], Any] | None = None,
        stream: bool = False,
        creates: bool = False,
    ) -> T:
        """Send one logical request, retried; ``parse`` turns the response into a result or raises.

        ``params``/``headers`` may be callables, re-evaluated per attempt (signed requests);
        ``body`` is a factory, called per attempt, for streamed uploads that cannot be replayed.
        ``creates``: the call creates or changes something, so it is resent only when it provably
        never reached the vendor; otherwise :class:`OutcomeUnknownError` goes to the caller, which
        looks before it sends again (:meth:`create_once`).
        """

        def attempt() -> T:
            if self.pacer is not None:
                self.pacer.acquire()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params() if callable(params) else params,
                    data=body() if body is not None else data,
                    json=json,
                    headers=headers() if callable(headers) else headers,
                    auth=self._auth(),
                    timeout=self.timeout,
                    stream=stream,
                    allow_redirects=False,
                )
            except requests.RequestException as error:
                # requests' own text can hold the full URL with a query string: name only the
                # host (no user, path or query) and the error's type.
                unsent, host = never_sent(error), origin(url)
                if isinstance(error, requests.Timeout) and not unsent:
                    message = f"no answer from {host} within {self.timeout:g} s"
                else:
                    message = f"connection to {host} failed ({type(error).__name__})"
                failure = TransientApiError(self.vendor, operation, message)
                failure.unsent = unsent
                raise failure from None
            if response.status_code == 429 or response.status_code >= 500:
                code, message = self._describe_error(response)
                response.close()  # a streamed answer would otherwise hold its connection
                cls = RateLimitError if response.status_code == 429 else TransientApiError
                raise cls(
                    self.vendor,
                    operation,
                    self.redact(message or response.reason or "server error"),
                    status=response.status_code,
                    code=code,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            return parse(response)

        def guarded() -> T:
            """One attempt; a creating call that may have reached the vendor is not resent here."""
            try:
                return attempt()
            except TransientApiError as error:
                if creates and not safe_to_resend(error):
                    raise OutcomeUnknownError(
                        self.vendor,
                        operation,
                        f"{error.message}; the vendor may have done it",
                        status=error.status,
                        code=error.code,
                    ) from None
                raise

        if self.on_event_loop:  # tried once, ``acall`` retries; no tenacity cycle left for the collector
            return guarded()
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1)
            | tenacity.stop_after_delay(self.setting("retry_deadline")),
            wait=self._wait,
            retry=tenacity.retry_if_exception(lambda e: getattr(e, "retryable", False)),
            before_sleep=self._before_sleep,
            sleep=self._pause,
            reraise=True,
        )
        return retrying(guarded)

    def _backoff(self, attempt: int) -> float:
        first = self.setting("retry_min_wait")
        return min(first * 2 ** (attempt - 1), self.setting("retry_max_wait"))

    def _describe_error(self, response: requests.Response) -> tuple[str | int | None, str]:
        """Best-effort (code, message) from an error body; vendors override."""
        return None, self._text_excerpt(response)

    def _text_excerpt(self, response: requests.Response) -> str:
        content_type = response.headers.get("Content-Type", "")
        if "html" in content_type:
            return f"{response.reason or 'error'} (an HTML page, not an API answer)"
        text = (response.text or "").strip()
        return text[:MAX_ERROR_TEXT] if text else (response.reason or "")

    def _json(self, response: requests.Response, operation: str) -> Any:
        try:
            return decode_body(response.content, response.json)  # a listing's entries: left as JSON
        except ValueError:
            described = "an empty body" if not response.content else self._text_excerpt(response)
            raise MalformedResponseError(
                self.vendor,
                operation,
                self.redact(f"expected JSON, got {described[:MAX_ERROR_TEXT]}"),
                status=response.status_code,
            ) from None

    def error(self, operation: str, message: str, **kwargs: Any) -> VendorApiError:
        """Build a :class:`VendorApiError` for ``operation``, its message redacted and shortened.

        :param operation: the operation's name (as in docs/vendor-conformance.md).
        :param message: what went wrong.
        :param kwargs: ``status``, ``code``, ``retry_after`` of the error.
        """
        return VendorApiError(self.vendor, operation, self.redact(str(message))[:MAX_ERROR_TEXT], **kwargs)

    # -- downloads --------------------------------------------------------------------------

    def download(self, url: str, write: Callable[[bytes], Any], operation: str = "download") -> int:
        """Stream ``url`` into ``write`` in 1 MiB chunks; return the byte count.

        Not retried: a half-written destination cannot be replayed safely, the caller starts over instead.

        :param url: a URL the vendor handed out.
        :param write: called with each chunk.
        :param operation: the name errors carry.
        """
        response = self._request(operation, "GET", url, lambda r: r, stream=True)
        with response:
            if response.status_code != 200:
                raise self.error(
                    operation,
                    f"the download URL at {origin(url)} answered HTTP {response.status_code}",
                    status=response.status_code,
                )
            size = 0
            try:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    write(chunk)
                    size += len(chunk)
            except requests.RequestException as error:
                raise TransientApiError(
                    self.vendor, operation, f"download from {origin(url)} broke off ({type(error).__name__})"
                ) from None
            # the bytes on the wire (compressed when gzip-encoded); urllib3 1.x lets a cut answer end early
            expected = response.headers.get("Content-Length")
            if expected and int(expected) != response.raw.tell():
                raise TransientApiError(
                    self.vendor,
                    operation,
                    f"download from {origin(url)} truncated at {size} of {expected} bytes",
                )
            return size

    def _probe(self) -> str:
        """One cheap call with no side effect; returns a description of the account."""
        raise NotImplementedError

    def test_connection(self) -> tuple[bool, str]:
        """One cheap call with no side effect: ``(ok, message)`` for Airflow's Test button."""
        try:
            described = self._probe()
        except Exception as error:  # the UI wants a message, never a traceback
            return False, self.redact(str(error))[:500]
        return True, f"Connected to {self.vendor} at {self.base_url}: {described}"
