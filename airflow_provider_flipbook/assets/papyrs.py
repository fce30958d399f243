"""``papyrs://`` assets: Papyrs pages and folders, per subsite (page ids are a subsite's).

* ``papyrs://<site-host>/@<subsite>/page/<page-id>``
* ``papyrs://<site-host>/@<subsite>/folder/<folder path>``
"""

from __future__ import annotations

from airflow_provider_flipbook.assets.base import AssetScheme

SCHEME = AssetScheme("papyrs", kinds=("page", "folder"), nested=("folder",), subsite=True)
sanitize_uri = SCHEME.sanitize_uri
create_asset = SCHEME.create_asset
convert_asset_to_openlineage = SCHEME.convert_asset_to_openlineage
