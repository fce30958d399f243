"""Wait for a Flipsnack HTML download package and, optionally, stream it to a destination."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from typing_extensions import override

from airflow_provider_flipbook.exceptions import VendorApiError
from airflow_provider_flipbook.sensors.base import StatusSensor

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow.sdk import Context

    from airflow_provider_flipbook.hooks.flipsnack import FlipsnackHook

#: What the package's storage answers for an expired signed URL: S3-style 403, or 404/410 elsewhere.
EXPIRED_URL_STATUSES = frozenset({403, 404, 410})


class FlipsnackDownloadPackageSensor(StatusSensor):
    """Starts and polls ``collection.downloadHTML`` until COMPLETE (success) or FAILED (failure).

    With ``destination`` (a path, ObjectStoragePath or URI; a folder, ending in ``/`` or existing,
    gets ``<collection_hash>.zip``) the ZIP is streamed there at once. With ``unpack_to`` (a local
    folder) a local package is also unpacked there, refusing members that would land outside it and
    capping the total at ``max_unpacked_bytes``. The vendor's URL expires after
    60 s: after deferral the sensor asks for a fresh one, and asks again once if storage refuses it.

    :param collection_hash: the collection's hash, or UploadPdfOperator's result (templated).
    :param destination: where to write the ZIP: a path, URI or ObjectStoragePath (templated; none:
        only wait until the package is ready).
    :param flipsnack_conn_id: the Flipsnack connection (templated).
    :param poke_interval: seconds between two status calls.
    :param unpack_to: a local folder to unpack a local package into (templated).
    :param max_unpacked_bytes: the most the unpacked members may total.
    :return: ``{"collection_hash", "status", "destination", "size"}``
    """

    template_fields = ("flipsnack_conn_id", "collection_hash", "destination", "unpack_to")

    def __init__(
        self,
        *,
        collection_hash: str,
        destination: Any = None,
        flipsnack_conn_id: str = "flipsnack_default",
        poke_interval: float = 5.0,
        unpack_to: str | None = None,
        max_unpacked_bytes: int = 2 * 1024**3,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        if unpack_to and not destination:
            raise ValueError("unpack_to needs a destination for the package")
        self.collection_hash = collection_hash
        self.destination = destination
        self.unpack_to, self.max_unpacked_bytes = unpack_to, max_unpacked_bytes
        self.flipsnack_conn_id = flipsnack_conn_id

    def hook(self) -> FlipsnackHook:
        """Return the Flipsnack hook of ``flipsnack_conn_id``."""
        from airflow_provider_flipbook.hooks import hook_for

        return cast("FlipsnackHook", hook_for(self.flipsnack_conn_id, vendors=("flipsnack",)))

    def _hash(self) -> str:
        value = self.collection_hash
        if isinstance(value, dict):
            value = value.get("publication_id")
        if not value or not str(value).strip():
            raise ValueError("collection_hash is empty")
        return str(value).strip()

    @override
    def waiting_for(self) -> str:
        return f"the HTML package of Flipsnack collection {self._hash()} on {self.flipsnack_conn_id!r}"

    @override
    def status(self, context: Context) -> dict[str, Any]:
        return self.hook().package_status(self._hash())

    @override
    def trigger(self, deadline: float) -> Any:
        from airflow_provider_flipbook.triggers.flipsnack import FlipsnackDownloadPackageTrigger

        return FlipsnackDownloadPackageTrigger(
            conn_id=self.flipsnack_conn_id,
            collection_hash=self._hash(),
            poll_interval=self.poke_interval,
            deadline=deadline,
        )

    @override
    def finish(self, context: Context, status: Mapping[str, Any]) -> Any:
        result = {
            "collection_hash": self._hash(),
            "status": status.get("detail"),
            "destination": None,
            "size": None,
        }
        if self.destination:
            target, size = self._download(self.hook(), status.get("resource_url"))
            self.log.info("Package saved to %s (%s bytes)", target, size)
            result.update(destination=target, size=size)
            if self.unpack_to:
                from airflow_provider_flipbook.utils.packages import unpack_package

                result["files"] = len(
                    unpack_package(target, self.unpack_to, max_bytes=self.max_unpacked_bytes)
                )
                self.log.info("Package unpacked to %s (%s files)", self.unpack_to, result["files"])
        else:
            self.log.info("The HTML package of collection %s is ready (no destination given)", self._hash())
        return result

    def _download(self, hook: FlipsnackHook, url: str | None) -> tuple[str, int]:
        """Download the package, asking once for a fresh URL if the one at hand was refused.

        The signed URL lives 60 s; a Retry-After or a busy worker between the status call and the
        download can outlast it, and the storage then answers 403 (or 404/410).
        """
        for attempt in (1, 2):
            if not url:  # after deferral the trigger never carries the signed URL; or it expired
                url = self._fresh_url(hook)
            try:
                return download_to(hook, url, self.destination, f"{self._hash()}.zip")
            except VendorApiError as error:
                if attempt == 2 or error.status not in EXPIRED_URL_STATUSES:
                    raise
                self.log.warning(
                    "The package URL was refused (HTTP %s, expired?): asking for a fresh one", error.status
                )
                url = None
        raise AssertionError("unreachable")

    def _fresh_url(self, hook: FlipsnackHook) -> str:
        fresh = hook.package_status(self._hash())
        if fresh["state"] != "success":
            raise RuntimeError(f"the package is no longer complete: {fresh.get('detail')}")
        return str(fresh["resource_url"])


def download_to(hook: FlipsnackHook, url: str, destination: Any, default_name: str) -> tuple[str, int]:
    """Stream ``url`` to ``destination``.

    Local targets are written to ``.part`` and renamed, so a broken download never leaves a file that
    looks complete.
    """
    from airflow_provider_flipbook.utils.files import storage_path

    path = storage_path(destination)
    if str(destination).endswith("/") or (path.exists() and path.is_dir()):
        path = path / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    local = path.protocol in ("file", "local", "")
    partial = path.parent / (path.name + ".part") if local else path
    try:
        with partial.open("wb") as out:
            size = hook.download(url, out.write, operation="collection.downloadHTML package")
    except BaseException:
        if local:
            partial.unlink(missing_ok=True)
        raise
    if local:
        partial.rename(path)
        return path.path, size  # a plain path for local files
    return str(path), size
