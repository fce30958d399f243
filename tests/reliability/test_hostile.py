"""Hostile answers: XML external entities and entity bombs, zip-slip and zip bombs."""

import io
import tracemalloc
import zipfile

import pytest

from airflow_provider_flipbook.exceptions import InvalidInputError, MalformedResponseError
from airflow_provider_flipbook.hooks.ipaper import IPaperHook
from airflow_provider_flipbook.operators import UploadPdfOperator
from airflow_provider_flipbook.sensors.flipsnack import FlipsnackDownloadPackageSensor
from airflow_provider_flipbook.utils.packages import unpack_package


@pytest.mark.parametrize("body", ["xxe", "lol"])
def test_ipaper_refuses_entities_with_bounded_memory(sandbox, body):
    sandbox.fault("ipaper", kind="malformed", body=body)
    tracemalloc.start()
    try:
        with pytest.raises(MalformedResponseError, match="DOCTYPE") as error:
            IPaperHook().get_all_papers()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024
    assert "root:" not in str(error.value)  # /etc/passwd was not read into the answer


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name", ["../escape.txt", "/abs/escape.txt", "pages/../../escape.txt", "C:/escape.txt"]
)
def test_zip_slip_is_refused_before_writing_anything(tmp_path, name):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(make_zip({"index.html": b"ok", name: b"pwned"}))
    target = tmp_path / "out" / "package"
    with pytest.raises(InvalidInputError, match="outside the target"):
        unpack_package(archive, target)
    assert (
        not target.exists()
        and not (tmp_path / "escape.txt").exists()
        and not (tmp_path / "out" / "escape.txt").exists()
    )


def test_zip_bomb_is_capped(tmp_path):
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(
        make_zip({f"zeros-{n}.bin": b"\0" * (8 << 20) for n in range(4)})
    )  # 32 MB from ~32 KB
    assert archive.stat().st_size < 200_000
    with pytest.raises(InvalidInputError, match="more than 10,000,000 bytes"):
        unpack_package(archive, tmp_path / "out", max_bytes=10_000_000)
    assert not (tmp_path / "out").exists()


def test_member_count_is_capped(tmp_path):
    archive = tmp_path / "many.zip"
    archive.write_bytes(make_zip({f"f{n}": b"" for n in range(50)}))
    with pytest.raises(InvalidInputError, match="50 members"):
        unpack_package(archive, tmp_path / "out", max_members=10)


def test_a_real_package_unpacks_through_the_sensor(sandbox, samples, context, tmp_path):
    result = UploadPdfOperator(
        task_id="u",
        conn_id="flipsnack_default",
        pdf=str(samples["three"]),
        name="Pkg",
        wait_for_conversion=True,
        poll_interval=0.05,
    ).execute(context)
    done = FlipsnackDownloadPackageSensor(
        task_id="d",
        collection_hash=result["publication_id"],
        destination=str(tmp_path / "pkg.zip"),
        unpack_to=str(tmp_path / "site"),
        poke_interval=0.2,
    ).execute(context)
    assert done["files"] == 5 and (tmp_path / "site" / "index.html").exists()
