"""Unpacking download packages safely.

No member may leave the target folder (zip-slip), and the total size is capped (zip bombs), counted on
the bytes actually written, not on the headers.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from airflow_provider_flipbook.exceptions import InvalidInputError

DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_MAX_MEMBERS = 100_000


def unpack_package(
    archive: str | Path,
    target: str | Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
) -> list[str]:
    """Extract ``archive`` into ``target``; return the member names.

    Nothing is written if a member name is unsafe; a size or count over the cap stops and removes what
    was written.
    """
    target = Path(target)
    with zipfile.ZipFile(archive) as package:
        members = package.infolist()
        if len(members) > max_members:
            raise InvalidInputError(f"package has {len(members)} members; the cap is {max_members}")
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or (name.parts and name.parts[0].endswith(":")):
                raise InvalidInputError(
                    f"package member {member.filename!r} would be written outside the target"
                )
        if sum(m.file_size for m in members) > max_bytes:
            raise InvalidInputError(f"package declares more than {max_bytes:,} bytes uncompressed")
        target.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            for member in members:
                destination = target / member.filename
                if member.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with package.open(member) as source, destination.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:  # headers can lie: count what really comes out
                            raise InvalidInputError(f"package unpacks to more than {max_bytes:,} bytes")
                        out.write(chunk)
        except InvalidInputError:
            shutil.rmtree(target, ignore_errors=True)
            raise
    return [m.filename for m in members]
