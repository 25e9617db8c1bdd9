"""Before a study stores anything: is the profile's storage writable, with room to grow?

Why: a study writes inputs at launch and every retrieved file later. On a full disk or a
read-only/permission-denied repository, AiiDA raises from deep inside SQLAlchemy or the
disk-object store, possibly hours into the run in the daemon. Checking up front gives
one message naming the folder and the fix, and nothing is stored; the same message is
given if the check passed but a write fails anyway (:func:`storage_error_message`).
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from aiida.manage.configuration.profile import Profile

# What a fast demo study adds to the repository is ~100 MB (charge densities, cubes,
# retrieved outputs); leave room for it and for SQLite's journal.
MIN_FREE_MB = 200.0
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class StorageProblemError(RuntimeError):
    """The profile's storage cannot take a study; the message says what to do."""


@dataclass(frozen=True)
class StorageFolder:
    """A folder a profile writes to and what it holds."""

    path: Path
    role: str


def storage_folders(profile: Profile) -> list[StorageFolder]:
    """Folders of the profile's storage that must be writable (repository, SQLite file)."""
    config = profile.storage_config
    if profile.storage_backend == "core.sqlite_dos":
        return [StorageFolder(Path(config["filepath"]), "SQLite database and file repository")]
    if profile.storage_backend == "core.psql_dos":
        return [StorageFolder(Path(urlsplit(config["repository_uri"]).path), "file repository")]
    return []


def check_folder(folder: StorageFolder, min_free_mb: float = MIN_FREE_MB) -> None:
    """Raise :class:`StorageProblemError` if ``folder`` is not writable or nearly full."""
    if not folder.path.is_dir():
        raise StorageProblemError(
            f"the {folder.role} folder {folder.path} does not exist: re-run `aiida-janus setup`"
        )
    try:
        handle, probe = tempfile.mkstemp(dir=folder.path, prefix=".janus-write-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exception:
        raise StorageProblemError(storage_error_message(exception, folder)) from exception
    free_mb = shutil.disk_usage(folder.path).free / 1e6
    if free_mb < min_free_mb:
        raise StorageProblemError(
            f"the {folder.role} folder {folder.path} has {free_mb:.0f} MB free, less than the "
            f"{min_free_mb:.0f} MB a study needs: free space on that file system, or move the "
            "profile's storage elsewhere (e.g. JANUS_WORK_DIR on a larger disk); nothing was "
            "stored"
        )


def check_profile_storage(profile: Profile, min_free_mb: float | None = None) -> None:
    """Check every storage folder of ``profile`` (see :func:`check_folder`).

    ``min_free_mb`` defaults to ``$JANUS_MIN_FREE_MB`` or :data:`MIN_FREE_MB`.
    """
    if min_free_mb is None:
        min_free_mb = float(os.environ.get("JANUS_MIN_FREE_MB", MIN_FREE_MB))
    for folder in storage_folders(profile):
        check_folder(folder, min_free_mb)


def storage_error_message(exception: OSError, folder: StorageFolder | None = None) -> str:
    """A user-facing message for an OSError raised while writing to storage."""
    where = f"the {folder.role} folder {folder.path}" if folder else "the AiiDA storage"
    code = exception.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        fix = "is full: free space (or quota) on that file system, or move the profile"
    elif code == errno.EROFS:
        fix = "is on a read-only file system: remount it read-write, or move the profile"
    elif code in (errno.EACCES, errno.EPERM):
        fix = f"is not writable by user {os.getuid()}: fix its permissions or run as its owner"
    else:
        fix = f"cannot be written ({exception.strerror})"
    return f"{where} {fix}; nothing was stored"


def storage_failure(exception: BaseException) -> str | None:
    """A user-facing message if ``exception`` (or what it wraps) is a storage failure.

    Recognises OSErrors (full, read-only, permission denied) and SQLite's own "database
    or disk is full" / "readonly database" errors, which SQLAlchemy wraps.
    """
    current: BaseException | None = exception
    seen = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in STORAGE_ERRNOS:
            return storage_error_message(current)
        text = str(current).lower()
        if "database or disk is full" in text:
            return storage_error_message(OSError(errno.ENOSPC, "disk full"))
        if "readonly database" in text or "read-only file system" in text:
            return storage_error_message(OSError(errno.EROFS, "read-only"))
        orig = getattr(current, "orig", None)  # SQLAlchemy keeps the DB-API error here
        if isinstance(orig, BaseException):
            current = orig
            continue
        current = current.__cause__ or current.__context__
    return None
