"""What an operator created or replaced, kept as a small JSON record.

The record is reported to Airflow's hook-level lineage (AIP-62: the asset and the vendor's ids).

The record is also what :mod:`airflow_provider_flipbook.utils.openlineage` turns into OpenLineage
datasets and facets; it imports nothing of OpenLineage, so operators stay the same without it.
Sources are named without credentials: no user info (an ObjectStoragePath's ``conn_id@``), no
query string (signed URLs carry their signature there).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

from typing_extensions import NotRequired

log = logging.getLogger(__name__)

Lifecycle = Literal["CREATE", "OVERWRITE"]


class LineageRecord(TypedDict):
    """One operator's outcome: the object it wrote, how, and what it read.

    ``output`` and ``previous`` are asset URIs of this provider's schemes (:mod:`..assets`);
    ``inputs`` are credential-free URIs (``s3://``, ``gs://``, ``file://``, ``https://`` or ours).
    """

    vendor: str
    output: str
    lifecycle: Lifecycle | None  # None: nothing was written (an existing object was reused)
    ids: dict[str, Any]
    inputs: list[str]
    public_url: NotRequired[str | None]
    external_id: NotRequired[str | None]  # the vendor's id of this run's work (a version, a page...)
    previous: NotRequired[list[str]]  # objects this one replaced (Papyrs pages)


def source_uri(location: Any) -> str | None:
    """Return a credential-free URI for a PDF or markdown location, or None for inline text.

    :param location: a path, a URI, an http(s) URL or an ObjectStoragePath
    """
    if location is None:
        return None
    text = str(location).strip()  # an ObjectStoragePath's str is its URI, a Path's its path
    if not text or "\n" in text:
        return None
    if "://" not in text:
        return "file://" + os.path.abspath(text)
    parts = urlsplit(text)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme.lower()}://{host}{parts.path}"


def report(hook: Any, record: LineageRecord) -> None:
    """Tell Airflow's hook-level lineage what ``hook`` read and wrote (a no-op without a reader).

    Lineage never fails the task: a collector error is logged and dropped.

    :param hook: the hook that did the work (the lineage context)
    :param record: what was written, see :class:`LineageRecord`
    """
    from airflow_provider_flipbook._compat import hook_lineage_collector

    try:
        collector = hook_lineage_collector()
        for uri in record["inputs"]:
            collector.add_input_asset(context=hook, uri=uri)
        if record["lifecycle"] is not None:
            collector.add_output_asset(context=hook, uri=record["output"], asset_extra=record["ids"])
        collector.add_extra(context=hook, key=f"{record['vendor']}_ids", value=record["ids"])
    except Exception as error:  # lineage is a report, never a reason to fail a publish
        log.warning("Could not report lineage (%s: %s)", type(error).__name__, error)


class DeclaresLineage:
    """Operator mixin: :meth:`declare` what was written; OpenLineage reads it on completion."""

    _lineage: LineageRecord | None = None

    def declare(self, hook: Any, record: LineageRecord) -> None:
        """Keep ``record`` for OpenLineage and report it to hook-level lineage.

        :param hook: the hook that did the work
        :param record: what was written
        """
        self._lineage = record
        report(hook, record)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the inputs, outputs and facets of this run (called by the OpenLineage provider only).

        :param task_instance: the finished task instance, whose ``task`` is the operator that ran
        """
        from airflow_provider_flipbook.utils.openlineage import operator_lineage

        # Airflow 3.1 hands OpenLineage the task from before execution copied it (its template
        # context is cached first); the copy that ran and declared is ``task_instance.task``.
        ran = getattr(task_instance, "task", None)
        return operator_lineage(self._lineage or getattr(ran, "_lineage", None))


def record(
    *,
    vendor: str,
    host: str,
    kind: str,
    object_id: Any,
    lifecycle: Lifecycle | None,
    ids: dict[str, Any],
    inputs: list[Any] = (),  # type: ignore[assignment]
    subsite: str | None = None,
    public_url: str | None = None,
    external_id: Any = None,
    previous: list[Any] = (),  # type: ignore[assignment]
) -> LineageRecord:
    """Build a :class:`LineageRecord` for one object of a vendor (its asset URI built by :mod:`..assets`).

    :param vendor: the connection type (= the URI scheme)
    :param host: the hook's API base URL
    :param kind: the object kind (``publication``, ``collection``, ``paper``, ``tracked-link``, ``page``)
    :param object_id: the object's id
    :param lifecycle: ``CREATE``, ``OVERWRITE``, or None when nothing was written
    :param ids: the vendor's ids, as the operator returns them
    :param inputs: source locations or asset URIs (None and inline text are skipped)
    :param subsite: the Papyrs subsite
    :param public_url: the object's public URL
    :param external_id: the vendor's id of this run's work
    :param previous: ids of the objects of the same kind this one replaced
    """
    from airflow_provider_flipbook.assets import scheme

    spec = scheme(vendor)
    sources = [uri for uri in (source_uri(i) for i in inputs) if uri]
    return {
        "vendor": vendor,
        "output": spec.uri(host=host, kind=kind, object_id=object_id, subsite=subsite),
        "lifecycle": lifecycle,
        "ids": ids,
        "inputs": sources,
        "public_url": public_url,
        "external_id": None if external_id is None else str(external_id),
        "previous": [spec.uri(host=host, kind=kind, object_id=p, subsite=subsite) for p in previous],
    }
