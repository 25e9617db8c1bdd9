"""Re-key mock recordings after a change of the input normalisation (no QE run).

Why: a recording is stored under the sha256 of its hash material (workflows/mock/hashing.py),
and the material keeps the normalised input text. When the normalisation changes (so far:
signed zeros written unsigned, ``hashing.unsigned_zeros``; the charge density's presence
no longer hashed, ``hashing.UNHASHED_PARENT_PATTERNS``), every recording whose material it
touches would miss. The stored material holds all that is needed: this script applies
``hashing.renormalised_material`` to each stored material (the input lines renormalised,
``# parent file`` lines of unhashed files dropped, ``# code``/``# pseudo`` lines kept as
they are), recomputes the digest, renames the ``.json``/``.tar.xz`` pair and rewrites every
reference to the old 16-digit name in the repository's text files (tests, READMEs, docs).

    python scripts/rekey_mock_store.py            # show what would change
    python scripts/rekey_mock_store.py --apply    # do it
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workflows.mock.codes import DEFAULT_STORE  # noqa: E402
from workflows.mock.hashing import renormalised_material  # noqa: E402
from workflows.mock.store import DIGEST_STEM_LENGTH, RecordingMetadata  # noqa: E402


def planned_renames(store: Path) -> list[tuple[Path, str, str]]:
    """(metadata file, old stem, new digest) of every recording whose key changes."""
    renames = []
    for metadata in sorted(store.glob("*/*.json")):
        data = json.loads(metadata.read_text())
        material = renormalised_material(data["material"])
        digest = hashlib.sha256(material.encode()).hexdigest()
        if digest != data["digest"]:
            renames.append((metadata, metadata.stem, digest))
    return renames


def apply(store: Path, renames: list[tuple[Path, str, str]]) -> dict[str, str]:
    """Rename each pair and rewrite its metadata; old stem → new stem.

    Every target name is checked before anything is renamed, so a collision (a recording
    of the normalised twin already stored) leaves the store as it was.
    """
    targets = [
        metadata.with_name(f"{digest[:DIGEST_STEM_LENGTH]}.json") for metadata, _, digest in renames
    ]
    clashes = [str(target) for target in targets if target.exists()]
    if clashes or len(set(targets)) != len(targets):
        where = ", ".join(clashes) or "within this run"
        sys.exit(f"rekey: two recordings would share a key ({where}); nothing renamed")
    mapping = {}
    for metadata, old, digest in renames:
        recorded = RecordingMetadata.from_json(metadata.read_text())
        rekeyed = replace(
            recorded, material=renormalised_material(recorded.material), digest=digest
        )
        new = digest[:DIGEST_STEM_LENGTH]
        metadata.with_name(f"{new}.json").write_text(rekeyed.to_json())
        metadata.unlink()
        metadata.with_name(f"{old}.tar.xz").rename(metadata.with_name(f"{new}.tar.xz"))
        mapping[old] = new
    return mapping


def rewrite_references(mapping: dict[str, str]) -> list[str]:
    """Replace old stems by new ones in the repository's tracked text files."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    changed = []
    for name in tracked:
        path = REPO / name
        if path.suffix in (".xz", ".json") or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        new_text = text
        for old, new in mapping.items():
            new_text = new_text.replace(old, new)
        if new_text != text:
            path.write_text(new_text)
            changed.append(name)
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apply", action="store_true", help="rename and rewrite (default: list)")
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    options = parser.parse_args()
    renames = planned_renames(options.store)
    for metadata, old, digest in renames:
        print(f"{metadata.parent.name}/{old} -> {digest[:DIGEST_STEM_LENGTH]}")
    print(f"{len(renames)} recordings change key")
    if options.apply and renames:
        mapping = apply(options.store, renames)
        for name in rewrite_references(mapping):
            print(f"references rewritten in {name}")


if __name__ == "__main__":
    main()
