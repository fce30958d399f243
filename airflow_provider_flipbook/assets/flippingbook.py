"""``flippingbook://`` assets: publications, tracked links and folders of FlippingBook Online.

* ``flippingbook://<api-host>/publication/<publication-id>``
* ``flippingbook://<api-host>/tracked-link/<link-id>``
* ``flippingbook://<api-host>/folder/<folder name or id>`` (a group, e.g. a catalogue)
"""

from __future__ import annotations

from airflow_provider_flipbook.assets.base import AssetScheme

SCHEME = AssetScheme("flippingbook", kinds=("publication", "tracked-link", "folder"), nested=("folder",))
sanitize_uri = SCHEME.sanitize_uri
create_asset = SCHEME.create_asset
convert_asset_to_openlineage = SCHEME.convert_asset_to_openlineage
