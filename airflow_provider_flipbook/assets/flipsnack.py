"""``flipsnack://`` assets: Flipsnack collections (what an upload publishes) and folders.

* ``flipsnack://<api-host>/collection/<collectionHash>``
* ``flipsnack://<api-host>/folder/<folder name or id>``
"""

from __future__ import annotations

from airflow_provider_flipbook.assets.base import AssetScheme

SCHEME = AssetScheme("flipsnack", kinds=("collection", "folder"), nested=("folder",))
sanitize_uri = SCHEME.sanitize_uri
create_asset = SCHEME.create_asset
convert_asset_to_openlineage = SCHEME.convert_asset_to_openlineage
