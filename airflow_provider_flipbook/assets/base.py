"""What every vendor's asset URI scheme shares: the URI form, its check, the factory and the converter.

Form: ``<scheme>://<api-host>[:port]/[@<subsite>/]<kind>/<object-id>``, e.g.
``flippingbook://api-tc.is.flippingbook.com/publication/4f0c...``. The authority is the host of the
connection's API base URL (the sandbox's ``127.0.0.1:<port>`` in tests), lower-cased, without the
default port 443. A URI never carries a credential: user info, query strings and fragments are
refused, so an API key cannot slip into an asset, an asset event or a lineage backend.

Airflow calls :meth:`AssetScheme.sanitize_uri` (the ``handler``) when an ``Asset`` is made,
:meth:`AssetScheme.create_asset` (the ``factory``) for hook-level lineage, and the OpenLineage
provider calls :meth:`AssetScheme.convert_asset_to_openlineage` (namespace ``<scheme>://<host>``,
name = the path, as the OpenLineage naming spec has it for object stores).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

if TYPE_CHECKING:
    from airflow.sdk import Asset


class InvalidAssetUriError(ValueError):
    """An asset URI of one of this provider's schemes that does not have the documented form."""


@dataclass(frozen=True)
class AssetScheme:
    """One vendor's URI scheme.

    :param scheme: the URI scheme, e.g. ``flippingbook``
    :param kinds: the object kinds it names (the first path segment after the subsite)
    :param nested: kinds whose id may span several path segments (folders)
    :param subsite: URIs carry ``@<subsite>`` before the kind (Papyrs: page ids are per subsite)
    """

    scheme: str
    kinds: tuple[str, ...]
    nested: tuple[str, ...] = ()
    subsite: bool = False

    @property
    def form(self) -> str:
        """The scheme's URI form, for error messages: ``<scheme>://<host>/<kind>/<id>``."""
        prefix = "@<subsite>/" if self.subsite else ""
        return f"{self.scheme}://<host>/{prefix}<{'|'.join(self.kinds)}>/<id>"

    def _refuse(self, uri: SplitResult, why: str) -> InvalidAssetUriError:
        # Never echo user info or a query: either may hold a credential.
        shown = f"{uri.scheme}://{uri.netloc.rpartition('@')[2]}{uri.path}"
        return InvalidAssetUriError(f"{shown!r} is not a {self.scheme} asset URI ({self.form}): {why}")

    def sanitize_uri(self, uri: SplitResult) -> SplitResult:
        """Check a split URI against the documented form and normalise it (the ``handler``).

        :param uri: the URI as Airflow split it (scheme lower-cased, trailing slashes removed)
        :return: the normalised URI: host lower-cased, port 443 dropped, path segments re-quoted
        :raises InvalidAssetUriError: for any other form
        """
        if "@" in uri.netloc:
            raise self._refuse(uri, "user info is not allowed (credentials never go in an asset URI)")
        if uri.query or uri.fragment:
            raise self._refuse(uri, "a query or fragment is not allowed")
        host = uri.netloc.lower()
        if host.endswith(":443"):
            host = host[: -len(":443")]
        if not host or host.startswith(":"):
            raise self._refuse(uri, "the API host is missing")
        segments = [unquote(s) for s in uri.path.split("/")[1:]]
        if any(not s.strip() for s in segments):
            raise self._refuse(uri, "empty path segment")
        if self.subsite:
            if not segments or not segments[0].startswith("@") or len(segments[0]) < 2:
                raise self._refuse(uri, "the path must start with @<subsite>")
            segments[0] = segments[0].lower()
        kind_at = 1 if self.subsite else 0
        if len(segments) < kind_at + 2:
            raise self._refuse(uri, "the path must name a kind and an id")
        kind = segments[kind_at]
        if kind not in self.kinds:
            raise self._refuse(uri, f"unknown kind {kind!r}")
        if len(segments) > kind_at + 2 and kind not in self.nested:
            raise self._refuse(uri, f"a {kind} id is one path segment")
        path = "/" + "/".join(quote(s, safe="@") for s in segments)
        return uri._replace(netloc=host, path=path)

    def uri(self, *, host: str, kind: str, object_id: Any, subsite: str | None = None) -> str:
        """Return the normalised URI of one object.

        :param host: the API host (``host[:port]``) or the whole API base URL
        :param kind: one of :attr:`kinds`
        :param object_id: the vendor's id (a folder may be a ``/``-separated path)
        :param subsite: the Papyrs subsite (required there, ignored elsewhere)
        """
        netloc = urlsplit(host).netloc if "://" in host else host
        ids = str(object_id).strip("/").split("/") if kind in self.nested else [str(object_id)]
        segments = ([f"@{str(subsite or '').lstrip('@')}"] if self.subsite else []) + [kind, *ids]
        raw = f"{self.scheme}://{netloc}/" + "/".join(quote(s, safe="@") for s in segments)
        return self.sanitize_uri(urlsplit(raw)).geturl()

    def create_asset(
        self,
        *,
        host: str,
        kind: str,
        object_id: Any,
        subsite: str | None = None,
        name: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Asset:
        """Return the ``Asset`` of one object (the ``factory`` Airflow calls for hook-level lineage).

        :param host: the API host or base URL
        :param kind: one of :attr:`kinds`
        :param object_id: the vendor's id
        :param subsite: the Papyrs subsite
        :param name: the asset's name (default: its URI)
        :param extra: the asset's extra
        """
        from airflow.sdk import Asset

        uri = self.uri(host=host, kind=kind, object_id=object_id, subsite=subsite)
        return Asset(uri=uri, name=name or uri, extra=extra or {})

    def convert_asset_to_openlineage(self, asset: Asset, lineage_context: Any = None) -> Any:
        """Return the OpenLineage dataset of an asset: namespace ``<scheme>://<host>``, name = the path.

        :param asset: an asset of this scheme
        :param lineage_context: unused (the OpenLineage provider passes its context)
        """
        from airflow.providers.common.compat.openlineage.facet import Dataset

        namespace, name = self.openlineage_name(asset.uri)
        return Dataset(namespace=namespace, name=name)

    def openlineage_name(self, uri: str) -> tuple[str, str]:
        """``(namespace, name)`` of an asset URI: ``<scheme>://<host>`` and the path.

        :param uri: an asset URI of this scheme
        """
        parts = self.sanitize_uri(urlsplit(uri))
        return f"{parts.scheme}://{parts.netloc}", parts.path
