"""``ipaper://`` assets: iPaper papers and categories.

* ``ipaper://<api-host>/paper/<paper-id>``
* ``ipaper://<api-host>/category/<category id or URL path>``
"""

from __future__ import annotations

from airflow_provider_flipbook.assets.base import AssetScheme

SCHEME = AssetScheme("ipaper", kinds=("paper", "category"), nested=("category",))
sanitize_uri = SCHEME.sanitize_uri
create_asset = SCHEME.create_asset
convert_asset_to_openlineage = SCHEME.convert_asset_to_openlineage
