"""OpenLineage datasets and facets for what the operators published (the ``openlineage`` extra).

Imported only from the operators' ``get_openlineage_facets_on_complete``, which only the OpenLineage
provider calls: without it nothing here is imported. Built from a
:class:`~airflow_provider_flipbook.utils.lineage.LineageRecord`, with no remote call:

* inputs: the PDF or markdown (and attachments) by the OpenLineage naming spec (``s3://<bucket>`` +
  key, ``gs://<bucket>`` + key, ``file`` + path, ``<scheme>://<host>`` + path for a URL, without its
  query), or the publication a tracked link was made for;
* output: the publication, collection, paper, tracked link or page (namespace ``<scheme>://<host>``,
  name the asset URI's path, as the registered converters give it), with a lifecycle facet (CREATE,
  or OVERWRITE for a new version or a replaced page, naming the page it replaced) and the public
  URL as a symlink; a replaced page is also an output, DROPped;
* run facet ``externalQuery``: the vendor's id of the work (version, collection, link, page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_flipbook.assets import SCHEMES, scheme

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_flipbook.utils.lineage import LineageRecord


def dataset_name(uri: str) -> tuple[str, str]:
    """``(namespace, name)`` of a URI by the OpenLineage naming spec.

    :param uri: an asset URI of this provider, or a credential-free source URI
    """
    from openlineage.client.naming.dataset import GCS, S3, LocalFileSystem

    parts = urlsplit(uri)
    if parts.scheme in SCHEMES:
        return scheme(parts.scheme).openlineage_name(uri)
    naming: Any
    if parts.scheme == "file" and not parts.netloc:
        naming = LocalFileSystem(path=parts.path)
    elif parts.scheme in ("s3", "s3a"):
        naming = S3(bucket_name=parts.netloc, object_key=parts.path.lstrip("/"))
    elif parts.scheme in ("gs", "gcs"):
        naming = GCS(bucket_name=parts.netloc, object_key=parts.path.lstrip("/"))
    else:  # the spec's general rule: namespace = scheme://authority, name = path
        return f"{parts.scheme}://{parts.netloc}", parts.path or "/"
    return naming.get_namespace(), naming.get_name()


def operator_lineage(record: LineageRecord | None) -> OperatorLineage:
    """Return the ``OperatorLineage`` of one operator run; empty when it wrote nothing (failed early).

    :param record: what the operator recorded in ``execute``
    """
    from airflow.providers.common.compat.openlineage.facet import (
        ExternalQueryRunFacet,
        Identifier,
        InputDataset,
        LifecycleStateChange,
        LifecycleStateChangeDatasetFacet,
        OutputDataset,
        PreviousIdentifier,
        SymlinksDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    if not record:
        return OperatorLineage()
    inputs = [InputDataset(namespace=ns, name=n) for ns, n in map(dataset_name, record["inputs"])]
    namespace, name = dataset_name(record["output"])
    facets: dict[str, Any] = {}
    previous = [dataset_name(uri) for uri in record.get("previous") or []]
    if record["lifecycle"] is not None:
        facets["lifecycleStateChange"] = LifecycleStateChangeDatasetFacet(
            lifecycleStateChange=LifecycleStateChange[record["lifecycle"]],
            previousIdentifier=(
                PreviousIdentifier(namespace=previous[0][0], name=previous[0][1]) if previous else None
            ),
        )
    if record.get("public_url"):
        parts = urlsplit(str(record["public_url"]))
        facets["symlinks"] = SymlinksDatasetFacet(
            identifiers=[
                Identifier(namespace=f"{parts.scheme}://{parts.netloc}", name=parts.path or "/", type="URL")
            ]
        )
    outputs = [OutputDataset(namespace=namespace, name=name, facets=facets)]
    drop = LifecycleStateChangeDatasetFacet(lifecycleStateChange=LifecycleStateChange.DROP)
    outputs += [
        OutputDataset(namespace=ns, name=n, facets={"lifecycleStateChange": drop}) for ns, n in previous
    ]
    run_facets = {}
    if record.get("external_id"):
        run_facets["externalQuery"] = ExternalQueryRunFacet(
            externalQueryId=str(record["external_id"]), source=namespace
        )
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)
