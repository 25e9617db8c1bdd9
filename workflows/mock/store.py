"""The recordings store: one compressed archive and one metadata JSON per input hash.

Layout: ``<root>/<code>/<digest[:16]>.tar.xz`` holds the output files a real run wrote
(paths relative to its working directory) plus its stdout and stderr under
``.mock/``; ``<digest[:16]>.json`` next to it holds :class:`RecordingMetadata`. Archives
are written deterministically (sorted members, zero mtimes and owners) so re-recording
an unchanged run with unchanged output bytes gives an unchanged file in git.
"""

from __future__ import annotations

import io
import json
import lzma
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from workflows.mock.hashing import HashedInputs

STDOUT_MEMBER = ".mock/stdout"
STDERR_MEMBER = ".mock/stderr"
DIGEST_STEM_LENGTH = 16


class RecordingStoreError(RuntimeError):
    """The recording store is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class RecordingMetadata:
    """What a recording was made from and by (shown in diffs and reviews).

    ``pseudo_copies`` lists output files that were byte-identical copies of an input
    pseudopotential (pw.x copies every UPF into ``prefix.save``) as (output path, pseudo
    name): they are restored from the pseudo folder instead of being stored, which is
    most of a small recording's size.
    """

    code: str
    digest: str
    material: str
    command: tuple[str, ...]
    qe_version: str
    date: str
    hostname: str
    exit_status: int
    file_sizes: tuple[tuple[str, int], ...]
    pseudo_copies: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_json(cls, text: str) -> RecordingMetadata:
        """Parse the JSON written by :meth:`to_json`."""
        data = json.loads(text)
        data["command"] = tuple(data["command"])
        data["file_sizes"] = tuple((name, int(size)) for name, size in data["file_sizes"])
        data["pseudo_copies"] = tuple(
            (target, source) for target, source in data.get("pseudo_copies", ())
        )
        return cls(**data)

    def to_json(self) -> str:
        """Stable, reviewable JSON (sorted keys, one field a line)."""
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Recording:
    """The outputs of one real run: files (relative path → bytes), stdout, stderr."""

    metadata: RecordingMetadata
    files: dict[str, bytes]
    stdout: bytes
    stderr: bytes


def _check_member_name(name: str, archive: Path) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise RecordingStoreError(f"{archive} has an unsafe member {name!r}: re-record it")


def read_archive(archive: Path) -> dict[str, bytes]:
    """Relative name → bytes of every regular file of a recording archive; an unsafe member
    name (absolute, or with ``..``) or an unreadable archive raises ``RecordingStoreError``."""
    try:
        with tarfile.open(archive, "r:xz") as tar:
            contents = {}
            for member in tar.getmembers():
                _check_member_name(member.name, archive)
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None:
                    contents[member.name] = handle.read()
            return contents
    except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as error:
        raise RecordingStoreError(f"recording archive {archive} is unreadable: {error}") from error


def _write_archive(archive: Path, contents: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz", preset=9) as tar:
        for name in sorted(contents):
            info = tarfile.TarInfo(name)
            info.size = len(contents[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(contents[name]))
    archive.write_bytes(buffer.getvalue())


@dataclass(frozen=True)
class RecordingStore:
    """A folder of recordings, e.g. ``tests/fixtures/mock``."""

    root: Path

    def _stem(self, code: str, digest: str) -> Path:
        return self.root / code / digest[:DIGEST_STEM_LENGTH]

    def check_exists(self) -> None:
        """Raise a clear error when the store folder itself is missing."""
        if not self.root.is_dir():
            raise RecordingStoreError(
                f"recording store {self.root} does not exist: check the path baked into the "
                "mock code's wrapper script, or record fixtures with scripts/record_fixtures.sh"
            )

    def load(self, hashed: HashedInputs) -> Recording | None:
        """Return the recording for these inputs, ``None`` if there is none.

        Raises :class:`RecordingStoreError` when a recording exists but is corrupt.
        """
        self.check_exists()
        stem = self._stem(hashed.code, hashed.digest)
        metadata_path, archive = stem.with_suffix(".json"), stem.with_suffix(".tar.xz")
        if not metadata_path.exists() and not archive.exists():
            return None
        if not (metadata_path.is_file() and archive.is_file()):
            raise RecordingStoreError(
                f"recording {stem} is incomplete: need both {metadata_path.name} and "
                f"{archive.name}; re-record it"
            )
        try:
            metadata = RecordingMetadata.from_json(metadata_path.read_text())
        except (ValueError, KeyError, TypeError) as error:
            raise RecordingStoreError(f"metadata {metadata_path} is corrupt: {error}") from error
        if metadata.digest != hashed.digest:
            raise RecordingStoreError(
                f"metadata {metadata_path} is for digest {metadata.digest}, not {hashed.digest}"
            )
        for target, _ in metadata.pseudo_copies:
            _check_member_name(target, metadata_path)
        contents = read_archive(archive)
        stdout, stderr = contents.pop(STDOUT_MEMBER, None), contents.pop(STDERR_MEMBER, b"")
        if stdout is None:
            raise RecordingStoreError(f"{archive} has no recorded stdout: re-record it")
        return Recording(metadata, contents, stdout, stderr)

    def save(self, recording: Recording) -> Path:
        """Write a recording (replacing any previous one for the same digest)."""
        metadata = recording.metadata
        stem = self._stem(metadata.code, metadata.digest)
        stem.parent.mkdir(parents=True, exist_ok=True)
        contents = {
            **recording.files,
            STDOUT_MEMBER: recording.stdout,
            STDERR_MEMBER: recording.stderr,
        }
        _write_archive(stem.with_suffix(".tar.xz"), contents)
        stem.with_suffix(".json").write_text(metadata.to_json())
        return stem.with_suffix(".tar.xz")

    def metadata_for_code(self, code: str) -> list[RecordingMetadata]:
        """All readable metadata of one code's recordings (corrupt ones are skipped)."""
        found = []
        for path in sorted((self.root / code).glob("*.json")):
            try:
                found.append(RecordingMetadata.from_json(path.read_text()))
            except (ValueError, KeyError, TypeError):
                continue
        return found
