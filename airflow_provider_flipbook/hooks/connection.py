"""How a hook reads its Airflow connection.

The base URL, the extras (typed, through :func:`setting`; a typo warned about), the required fields,
and the secrets its messages never show.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from airflow_provider_flipbook import connection_extras
from airflow_provider_flipbook._compat import AirflowException, BaseHook

if TYPE_CHECKING:
    from airflow.sdk import Connection


class ConnectionSettings(BaseHook):
    """The connection side of :class:`~airflow_provider_flipbook.hooks.base.FlipbookBaseHook`."""

    vendor: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    host_meaning: ClassVar[str] = "API base URL"
    conn_name_attr: ClassVar[str]
    default_conn_name: ClassVar[str]
    conn_type: ClassVar[str]
    hook_name: ClassVar[str]
    conn_id: str

    @cached_property
    def connection(self) -> Connection:
        """The Airflow connection, looked up once."""
        return self.get_connection(self.conn_id)

    @cached_property
    def extras(self) -> dict[str, Any]:
        """The connection's extras; any this provider does not read is named in a warning (a typo)."""
        extras = dict(self.connection.extra_dejson or {})
        if typos := connection_extras.unknown(self.conn_type, extras):
            self.log.warning(
                "Connection %r (%s) sets extras this provider does not read: %s",
                self.conn_id,
                self.conn_type,
                ", ".join(typos),
            )
        return extras

    def _require(self, value: str | None, field: str, meaning: str) -> str:
        if not value:
            raise AirflowException(
                f"Connection {self.conn_id!r} ({self.vendor}) has no {field}: set it to the {meaning}."
            )
        return value

    @cached_property
    def base_url(self) -> str:
        """The connection's host (scheme, host, port, path prefix) or the vendor's default."""
        conn = self.connection
        host = (conn.host or "").strip()
        if not host:
            return self._require(self.default_base_url, "host", self.host_meaning).rstrip("/")
        if "://" not in host:
            host = "https://" + host
        parts = urlsplit(host)
        netloc = parts.netloc
        if conn.port and ":" not in netloc:
            netloc = f"{netloc}:{conn.port}"
        path = parts.path.rstrip("/")
        if not path and conn.schema:  # URI form: scheme://login:pw@host:port/<prefix>
            path = "/" + conn.schema.strip("/")
        return f"{parts.scheme}://{netloc}{path}"

    def secrets(self) -> list[str]:
        """Values that must never appear in a message; vendor hooks add computed ones."""
        return [v for v in (self.connection.password,) if v]

    def redact(self, text: str) -> str:
        """``text`` with every credential of the connection replaced by ``***``.

        :param text: a message that may repeat what was sent (a vendor's error, a URL).
        """
        for secret in self.secrets():
            if len(secret) >= 3:
                text = text.replace(secret, "***")
        return text

    def setting(self, name: str) -> Any:
        """Read a connection extra as declared in :mod:`~airflow_provider_flipbook.connection_extras`.

        Typed; missing, ``null`` or blank is its default: Airflow's connection form saves an empty field
        as ``null``.

        :param name: the extra's name.
        """
        declared = connection_extras.declared(self.conn_type)
        if name not in declared:
            raise KeyError(f"{type(self).__name__} declares no extra {name!r}")
        try:
            return declared[name].parse(self.extras.get(name), self.conn_id)
        except ValueError as error:
            raise AirflowException(str(error)) from None

    @property
    def timeout(self) -> float:
        """Seconds to wait for each answer (extra ``timeout``)."""
        return self.setting("timeout")

    @property
    def max_retries(self) -> int:
        """Retries of a call on 5xx, timeouts and rate limits (extra ``max_retries``)."""
        return self.setting("max_retries")
