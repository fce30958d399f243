"""The three parts of every vendor emulator, composed (none inherits from another).

* :class:`VendorState` (the vendor's ``state.py``): its stored objects, option switches and their life
  cycle, a plain object;
* :class:`RouteGroup` (a ``routes_<area>.py``): handlers of one area of the API over that state;
* :class:`VendorEmulator` (the vendor's ``routes.py``): what the server needs to know of the vendor
  (its name, the credentials it accepts, the Airflow connection that points at it, the apps it
  serves), its transport and its FastAPI app. It holds one state and its route groups, and answers
  ``options``, ``reset`` and ``counts`` for the server from that state.

The server mounts every emulator listed in :mod:`..emulators`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from fastapi import FastAPI

from airflow_provider_flipbook.sandbox.core.routing import Route, declared_routes

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_flipbook.sandbox.core.state import SandboxState


def token(prefix: str) -> str:
    """Draw a fresh random credential, recognisable by its prefix."""
    return f"{prefix}-{secrets.token_hex(12)}"


@dataclass(frozen=True)
class Credential:
    """One credential an emulator accepts, drawn afresh by ``make`` for each run.

    ``flipbook-sandbox --<vendor>-<name>`` sets it. ``secret`` ones never show in the request log, and
    tests scan logs for them; a public one (an API key id, a user name) may. A public one the vendor's
    design sends in URLs (``in_urls``) is still hidden wherever a careless answer could repeat it (the
    ``echo`` fault repeats it, redaction must hide it).
    """

    name: str
    make: Callable[[], str]
    secret: bool = True
    in_urls: bool = False


class VendorState:
    """One vendor's stored objects, its option switches and their life cycle.

    :param shared: the sandbox's shared state (clock, ids, files, credentials)
    :param public: the emulator's public base URL, for the URLs the vendor gives out
    """

    options: dict[str, Any]

    def __init__(self, shared: SandboxState, public: str) -> None:
        self.shared, self.public = shared, public
        self.reset()

    def reset(self) -> None:
        """Forget every object; every option back to the documents' default."""
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        """Object counts for ``/_sandbox/state``."""
        raise NotImplementedError


StateT = TypeVar("StateT", bound=VendorState)


class RouteGroup(Generic[StateT]):
    """The ``@route`` handlers of one area of a vendor's API, over the vendor's state.

    :param state: the vendor's state, shared with its emulator and its other route groups
    """

    def __init__(self, state: StateT) -> None:
        self.state = state


class VendorEmulator(Generic[StateT]):
    """One vendor's emulated API, mounted at ``/<name>`` by the server.

    A subclass names its ``state_class`` and its ``route_groups``; its own ``@route`` handlers and those
    of its groups are :meth:`declared`, for its transport (:meth:`routes`) to wire.
    """

    name: ClassVar[str] = ""
    credentials: ClassVar[tuple[Credential, ...]] = ()
    state_class: type[StateT]
    route_groups: ClassVar[tuple[type[RouteGroup[Any]], ...]] = ()

    def __init__(self, shared: SandboxState) -> None:
        self.shared = shared
        self.app = FastAPI(title=f"{self.name} sandbox", openapi_url=None, docs_url=None, redoc_url=None)
        self.state: StateT = self.state_class(shared, self.public)
        self.groups = [group(self.state) for group in self.route_groups]
        self.routes()

    @property
    def public(self) -> str:
        """The emulator's public base URL."""
        return f"{self.shared.base_url}/{self.name}"

    @property
    def options(self) -> dict[str, Any]:
        """The vendor's option switches (``POST /_sandbox/options``), kept in its state."""
        return self.state.options

    def reset(self) -> None:
        self.state.reset()

    def counts(self) -> dict[str, int]:
        return self.state.counts()

    def declared(self) -> list[Route]:
        """Return the ``@route`` handlers of this emulator and of its route groups."""
        return [declared for owner in (self, *self.groups) for declared in declared_routes(owner)]

    def credential(self, name: str) -> str:
        """Return this run's value of one of :attr:`credentials`."""
        return self.shared.credentials[f"{self.name}_{name}"]

    def connection(self) -> dict[str, Any]:
        """Return the Airflow connection (``AIRFLOW_CONN_*`` JSON) that points a hook at this emulator."""
        raise NotImplementedError

    def apps(self) -> dict[str, Any]:
        """Path prefix -> the app served there: the emulator's own, and any second host it plays."""
        return {self.name: self.app}

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Return the calls this vendor made to registered webhooks (``GET /_sandbox/webhooks``)."""
        return []

    def routes(self) -> None:
        """Wire :meth:`declared` (and any route outside the API) to :attr:`app` through the transport."""
        raise NotImplementedError

    def error_body(self, status: int, code: str = "") -> tuple[bytes, str]:
        """Return the body of an injected HTTP error in the vendor's own envelope.

        ``code``: the vendor's error code to answer, when the fault names one.
        """
        raise NotImplementedError

    def malformed_body(self, kind: str) -> tuple[bytes, str]:
        if kind == "html":
            return b"<html><body><h1>Service Unavailable</h1></body></html>", "text/html"
        if kind == "empty":
            return b"", "application/json"
        good, content_type = self.error_body(200)
        return good[: max(len(good) // 2, 1)], content_type
