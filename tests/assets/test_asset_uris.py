"""The four asset URI schemes, as Airflow registers them from the provider info (entry point)."""

import importlib.util

import pytest

from airflow_provider_flipbook.assets import SCHEMES, scheme

HAS_OPENLINEAGE = importlib.util.find_spec("airflow.providers.openlineage") is not None


def runtime():
    """Where Airflow keeps the registered handlers: the task runtime's registry (3.2+), else core's."""
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
    except ImportError:  # 3.1
        from airflow.providers_manager import ProvidersManager

        return ProvidersManager()
    return ProvidersManagerTaskRuntime()


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        (
            "flippingbook://API-TC.is.flippingbook.com:443/publication/4f0c9a/",
            "flippingbook://api-tc.is.flippingbook.com/publication/4f0c9a",
        ),
        ("flippingbook://127.0.0.1:8765/tracked-link/77", "flippingbook://127.0.0.1:8765/tracked-link/77"),
        ("flippingbook://h/folder/Catalogue/2026", "flippingbook://h/folder/Catalogue/2026"),
        (
            "flipsnack://api.flipsnack.com/collection/ab12cd",
            "flipsnack://api.flipsnack.com/collection/ab12cd",
        ),
        ("ipaper://ipaper.api.ipapercms.dk/paper/1234", "ipaper://ipaper.api.ipapercms.dk/paper/1234"),
        ("ipaper://h/category/a b", "ipaper://h/category/a%20b"),
        ("papyrs://Acme.papyrs.com/@Home/page/p42", "papyrs://acme.papyrs.com/@home/page/p42"),
    ],
)
def test_airflow_normalises_each_scheme_through_the_registered_handler(given, normalised):
    from airflow.sdk import Asset

    asset = Asset(given)
    assert asset.uri == normalised
    assert asset.normalized_uri == normalised  # None for a scheme no provider registered


def test_user_info_never_reaches_an_asset():
    """3.2+ keeps a user name for the handler, which refuses it; 3.1 drops any user info itself, warning."""
    from airflow.sdk import Asset

    from airflow_provider_flipbook._compat import AIRFLOW_V_3_2_PLUS

    uri = "flippingbook://apikey@api-tc.is.flippingbook.com/publication/1"
    if AIRFLOW_V_3_2_PLUS:
        with pytest.raises(ValueError, match="user info is not allowed") as raised:
            Asset(uri)
        assert "apikey" not in str(raised.value)
    else:
        with pytest.warns(UserWarning, match="automatically dropped"):
            assert Asset(uri).uri == "flippingbook://api-tc.is.flippingbook.com/publication/1"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("flippingbook://h/publication/1?api_key=s3cr3t", "a query or fragment is not allowed"),
        ("flippingbook://h/publication", "must name a kind and an id"),
        ("flippingbook://h/publications/1", "unknown kind 'publications'"),
        ("flippingbook:///publication/1", "the API host is missing"),
        ("flippingbook://h/publication/1/2", "a publication id is one path segment"),
        ("flipsnack://h/paper/1", "unknown kind 'paper'"),
        ("ipaper://h/paper//1", "empty path segment"),
        ("papyrs://acme.papyrs.com/page/1", "must start with @<subsite>"),
    ],
)
def test_a_malformed_uri_is_refused_with_the_documented_form_and_no_secret(uri, reason):
    from airflow.sdk import Asset

    with pytest.raises(ValueError, match=reason) as raised:
        Asset(uri)
    message = str(raised.value)
    assert "://<host>/" in message  # names the documented form
    assert "s3cr3t" not in message


def test_every_scheme_has_handler_factory_and_converter_registered():
    manager = runtime()
    for vendor in SCHEMES:
        assert manager.asset_uri_handlers[vendor] == scheme(vendor).sanitize_uri
        assert manager.asset_factories[vendor] == scheme(vendor).create_asset
        assert manager.asset_to_openlineage_converters[vendor] == scheme(vendor).convert_asset_to_openlineage


@pytest.mark.parametrize(
    ("vendor", "kwargs", "uri"),
    [
        (
            "flippingbook",
            {"host": "https://api-tc.is.flippingbook.com", "kind": "publication", "object_id": "4f0c"},
            "flippingbook://api-tc.is.flippingbook.com/publication/4f0c",
        ),
        (
            "papyrs",
            {"host": "http://127.0.0.1:8765", "kind": "page", "object_id": "p1", "subsite": "@home"},
            "papyrs://127.0.0.1:8765/@home/page/p1",
        ),
        (
            "ipaper",
            {"host": "ipaper.api.ipapercms.dk", "kind": "paper", "object_id": 99},
            "ipaper://ipaper.api.ipapercms.dk/paper/99",
        ),
    ],
)
def test_the_factory_builds_the_asset_hook_lineage_asks_for(vendor, kwargs, uri):
    factory = runtime().asset_factories[vendor]
    asset = factory(**kwargs, extra={"vendor": vendor})
    assert asset.uri == uri and asset.extra == {"vendor": vendor}


def test_the_factory_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind 'widget'"):
        scheme("papyrs").create_asset(host="h", kind="widget", object_id="1", subsite="home")


@pytest.mark.skipif(not HAS_OPENLINEAGE, reason="the openlineage extra is not installed (Python 3.10)")
def test_openlineage_converts_the_assets_by_the_naming_spec():
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset
    from airflow.sdk import Asset

    for uri, namespace, name in (
        (
            "flippingbook://127.0.0.1:8765/publication/abc",
            "flippingbook://127.0.0.1:8765",
            "/publication/abc",
        ),
        ("flipsnack://api.flipsnack.com/collection/h1", "flipsnack://api.flipsnack.com", "/collection/h1"),
        ("ipaper://h/paper/9", "ipaper://h", "/paper/9"),
        ("papyrs://acme.papyrs.com/@home/page/p1", "papyrs://acme.papyrs.com", "/@home/page/p1"),
    ):
        dataset = translate_airflow_asset(Asset(uri), lineage_context=None)
        assert dataset is not None, uri
        assert (dataset.namespace, dataset.name) == (namespace, name)
