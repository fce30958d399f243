"""The compatibility layer on the Airflow that is installed: one answer per version, no version checks elsewhere."""

import asyncio
import json

import pytest
from packaging.version import Version

from airflow_provider_flipbook import _compat
from airflow_provider_flipbook.retry import vendor_retry_policy_args

VERSION = Version(Version(_compat.AIRFLOW_VERSION).base_version)


def test_flags_match_the_installed_airflow():
    assert _compat.HAS_TASK_STATE_STORE == (VERSION >= Version("3.3"))
    assert _compat.HAS_RETRY_POLICY == (VERSION >= Version("3.3"))
    assert _compat.HAS_ASYNC_MASKING == (VERSION >= Version("3.3.2"))
    assert _compat.READS_CONN_FIELDS == (VERSION >= Version("3.2"))


def test_conf_reads_airflow_configuration():
    assert _compat.conf.getboolean("operators", "default_deferrable", fallback=False) is False
    assert _compat.conf.get("core", "dags_folder")


def test_async_fetch_gives_connection_and_extras_inside_a_running_loop(monkeypatch):
    extra = {"timeout": None, "rate_limit": "5/1", "credential_fields": "pl"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_COMPAT_PROBE",
        json.dumps({"conn_type": "ipaper", "login": "APIKey", "password": "compat-secret-1", "extra": extra}),
    )

    async def fetch():
        other = asyncio.create_task(asyncio.sleep(0.01))  # another coroutine in flight, as in a triggerer
        connection, extras = await _compat.aget_connection("compat_probe")
        await other
        return connection, extras

    connection, extras = asyncio.run(fetch())
    assert connection.conn_type == "ipaper" and connection.password == "compat-secret-1"
    assert extras == extra


def test_task_state_store_only_where_airflow_has_one():
    store = object()
    assert (_compat.task_state_store({"task_state_store": store}) is store) == _compat.HAS_TASK_STATE_STORE
    assert _compat.task_state_store({}) is None


def test_retry_policy_args_are_empty_below_3_3():
    args = vendor_retry_policy_args(120)
    if _compat.HAS_RETRY_POLICY:
        from airflow_provider_flipbook.retry import VendorRetryPolicy

        assert (
            isinstance(args["retry_policy"], VendorRetryPolicy)
            and args["retry_policy"].max_delay_seconds == 120
        )
    else:
        assert args == {}
        with pytest.raises(ImportError, match="needs Airflow 3.3"):
            from airflow_provider_flipbook.retry import VendorRetryPolicy  # noqa: F401
