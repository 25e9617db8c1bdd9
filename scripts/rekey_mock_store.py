"""Re-key mock recordings after a change of the hashing (no QE run).

Why: a recording is stored under the sha256 of its hash material (workflows/mock/hashing.py).
When the hashing changes, every recording whose material it touches would miss. So far:
signed zeros written unsigned (``hashing.unsigned_zeros``); the charge density's presence
no longer hashed (``hashing.UNHASHED_PARENT_PATTERNS``); since 2026-12-07 a post-processing
run's parent basis (cell, cutoffs, FFT grid, ``gamma_only``: ``hashing.parent_basis``),
read from its parent's recording in the store (``workflows/mock/rekey.py``). The script
recomputes each digest, renames the ``.json``/``.tar.xz`` pair and rewrites every
reference to the old 16-digit name in the repository's text files (tests, READMEs, docs).

    python scripts/rekey_mock_store.py            # show what would change
    python scripts/rekey_mock_store.py --apply    # do it
    python scripts/rekey_mock_store.py --parent pp.x/<stem>=<pw.x stem>   # a parent the
        # store cannot tell (its own output does not single it out): name it
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workflows.mock.codes import DEFAULT_STORE  # noqa: E402
from workflows.mock.rekey import ParentNotFoundError, parent_bases, with_parent_basis  # noqa: E402
from workflows.mock.store import DIGEST_STEM_LENGTH, RecordingMetadata  # noqa: E402


def planned_renames(
    store: Path, overrides: dict[str, str] | None = None
) -> list[tuple[Path, str, str, str]]:
    """(metadata file, old stem, new material, new digest) of every recording whose key
    changes. ``overrides`` maps ``code/stem`` of a post-processing recording to its
    parent's pw.x stem (``--parent``)."""
    index = parent_bases(store)
    renames = []
    unresolved = []
    used = set()
    for metadata in sorted(store.glob("*/*.json")):
        recorded = RecordingMetadata.from_json(metadata.read_text())
        name = f"{metadata.parent.name}/{metadata.stem}"
        archive = metadata.with_name(f"{metadata.stem}.tar.xz")
        if name in (overrides or {}):
            used.add(name)
        try:
            material = with_parent_basis(recorded, archive, index, (overrides or {}).get(name))
        except ParentNotFoundError as error:
            unresolved.append(str(error))
            continue
        digest = hashlib.sha256(material.encode()).hexdigest()
        if digest != recorded.digest:
            renames.append((metadata, metadata.stem, material, digest))
    unused = sorted(set(overrides or {}) - used)
    if unused:
        unresolved.append(f"--parent names no stored post-processing recording: {unused}")
    if unresolved:
        sys.exit("rekey: nothing renamed:\n" + "\n".join(unresolved))
    return renames


def apply(store: Path, renames: list[tuple[Path, str, str, str]]) -> dict[str, str]:
    """Rename each pair and rewrite its metadata; old stem → new stem.

    Every archive and target name is checked before anything is renamed, so a collision
    (a recording of the normalised twin already stored) or a missing archive leaves the
    store as it was. An I/O error part-way rewrites the references of the pairs already
    renamed and stops with one line naming the pair it stopped at.
    """
    missing = [
        f"{metadata.parent.name}/{old}.tar.xz"
        for metadata, old, _, _ in renames
        if not metadata.with_name(f"{old}.tar.xz").is_file()
    ]
    if missing:
        sys.exit(f"rekey: archives missing ({', '.join(missing)}); nothing renamed")
    targets = [
        metadata.with_name(f"{digest[:DIGEST_STEM_LENGTH]}{suffix}")
        for metadata, _, _, digest in renames
        for suffix in (".json", ".tar.xz")
    ]
    clashes = [str(target) for target in targets if target.exists()]
    if clashes or len(set(targets)) != len(targets):
        where = ", ".join(clashes) or "within this run"
        sys.exit(f"rekey: two recordings would share a key ({where}); nothing renamed")
    mapping: dict[str, str] = {}
    for metadata, old, material, digest in renames:
        new = digest[:DIGEST_STEM_LENGTH]
        try:
            recorded = RecordingMetadata.from_json(metadata.read_text())
            rekeyed = replace(recorded, material=material, digest=digest)
            metadata.with_name(f"{old}.tar.xz").rename(metadata.with_name(f"{new}.tar.xz"))
            metadata.with_name(f"{new}.json").write_text(rekeyed.to_json())
            metadata.unlink()
        except OSError as error:
            rewrite_references(mapping)
            sys.exit(
                f"rekey: stopped at {metadata.parent.name}/{old} ({error}); the "
                f"{len(mapping)} pairs before it are renamed and their references rewritten"
            )
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


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        child, separator, parent = pair.partition("=")
        if not separator or "/" not in child:
            sys.exit(f"rekey: --parent takes <code>/<stem>=<pw.x stem>, not {pair!r}")
        overrides[child] = parent.removeprefix("pw.x/")
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apply", action="store_true", help="rename and rewrite (default: list)")
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument(
        "--parent",
        action="append",
        default=[],
        metavar="CODE/STEM=PW_STEM",
        help="the pw.x recording a post-processing recording was run on (repeatable)",
    )
    options = parser.parse_args()
    renames = planned_renames(options.store, _overrides(options.parent))
    for metadata, old, _, digest in renames:
        print(f"{metadata.parent.name}/{old} -> {digest[:DIGEST_STEM_LENGTH]}")
    print(f"{len(renames)} recordings change key")
    if options.apply and renames:
        mapping = apply(options.store, renames)
        for name in rewrite_references(mapping):
            print(f"references rewritten in {name}")


if __name__ == "__main__":
    main()
