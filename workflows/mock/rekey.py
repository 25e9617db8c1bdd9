"""Bring a stored recording's hash material up to the current hashing, from the store alone.

Why: a recording is stored under the sha256 of its hash material (:mod:`hashing`). When
the hashing changes, every recording it touches would miss. Two kinds of change are
handled here, neither needing a QE run:

* a change of the input normalisation (signed zeros, the density's presence):
  :func:`~workflows.mock.hashing.renormalised_material` rewrites the stored text;
* a line read from the parent (2026-12-07: the *parent basis* of a post-processing run,
  :func:`~workflows.mock.hashing.parent_basis`): the parent is found in the store, since
  a post-processing run is only ever recorded downstream of a parent recorded in the same
  run (``record.py`` refuses otherwise). :func:`parent_bases` reads the output
  ``data-file-schema.xml`` of every stored pw.x recording; :func:`choose_parent` keeps
  those with the child's atoms whose number of dense G-vectors (``<ngm>``, set by
  ``ecutrho``, the cell and Γ tricks) is the one the child printed (the ``Sum`` row of
  the G-vector table pp.x and projwfc.x print): evidence from the child's own output, not
  from dates or names. The line is recomputed each time, so a change of its format
  re-keys the same way.

``scripts/rekey_mock_store.py`` applies both and renames the files.
"""

from __future__ import annotations

import fnmatch
import re
import tarfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from workflows.mock.hashing import (
    PARENT_BASIS_PREFIX,
    PARENT_DOCUMENT_PATTERN,
    PARENT_SYSTEM_PREFIX,
    output_section,
    parent_basis,
    renormalised_material,
    system_digest,
)
from workflows.mock.store import RecordingMetadata

_DENSE_GVECTORS_SUM = re.compile(r"^\s*Sum\s+\d+\s+\d+\s+\d+\s+(\d+)", re.MULTILINE)
"""The ``Sum`` row of the G-vector table QE prints (``Parallelization info``, or ``G-vector
sticks info`` in a serial run): sticks (dense, smooth, PW), then G-vectors (dense, ...);
the fourth number is the dense G-vector count."""
_XML_NGM = re.compile(r"<ngm>\s*(\d+)\s*</ngm>")


@dataclass(frozen=True)
class StoredParent:
    """A stored pw.x recording as a post-processing run's parent."""

    stem: str
    basis: str
    dense_gvectors: int | None
    """``<ngm>`` of its output XML: the G-vectors of the density's cutoff sphere."""


class ParentNotFoundError(LookupError):
    """No stored pw.x recording can be told to be a post-processing recording's parent."""


def _archive_member(archive: Path, wanted: str) -> str:
    """The text of the first member matching ``wanted`` (fnmatch, same depth); "".

    Read as a stream, stopping at that member: the members are stored in name order, so
    ``.mock/stdout`` and ``out/...`` come before a pp.x run's cube of tens of MB.
    """
    with tarfile.open(archive, "r|xz") as tar:
        for member in tar:
            same_depth = member.name.count("/") == wanted.count("/")
            if same_depth and fnmatch.fnmatch(member.name, wanted):
                handle = tar.extractfile(member)
                return handle.read().decode(errors="replace") if handle else ""
    return ""


def stored_document(archive: Path) -> str:
    """The ``data-file-schema.xml`` text kept in a recording's archive; "" without one."""
    return _archive_member(archive, PARENT_DOCUMENT_PATTERN)


def printed_dense_gvectors(archive: Path) -> int | None:
    """The dense G-vector count a recorded run printed on its stdout; None if it did not."""
    match = _DENSE_GVECTORS_SUM.search(_archive_member(archive, ".mock/stdout"))
    return int(match.group(1)) if match else None


def parent_bases(store: Path) -> dict[str, list[StoredParent]]:
    """System digest → every stored pw.x recording of that system, with its basis line."""
    index: dict[str, list[StoredParent]] = defaultdict(list)
    for metadata_path in sorted(store.glob("pw.x/*.json")):
        document = stored_document(metadata_path.with_name(f"{metadata_path.stem}.tar.xz"))
        if not document:
            continue
        ngm = _XML_NGM.search(output_section(document))
        index[system_digest(document)].append(
            StoredParent(
                metadata_path.stem, parent_basis(document), int(ngm.group(1)) if ngm else None
            )
        )
    return dict(index)


def _system_line(material: str) -> str | None:
    for line in material.split("\n"):
        if line.startswith(PARENT_SYSTEM_PREFIX):
            return line
    return None


def choose_parent(
    candidates: list[StoredParent],
    dense_gvectors: int | None,
    name: str,
    override: str | None = None,
) -> StoredParent:
    """The parent of a child recording among stored pw.x runs of the same atoms.

    The child printed its G-vector count (``dense_gvectors``): the candidates whose
    ``<ngm>`` equals it, if they share one basis; none of them is refused, even when all
    candidates share a basis (the real parent may have been removed, and a run of the
    same atoms at other cutoffs is no stand-in). The child printed none: the candidates'
    one basis, if they share one. Anything else is refused, unless ``override`` (a pw.x
    stem, ``--parent`` of the script) names the parent.
    """
    if override is not None:
        chosen = [parent for parent in candidates if parent.stem == override]
        if not chosen:
            raise ParentNotFoundError(f"{name}: pw.x/{override} is not of this recording's system")
        return chosen[0]
    if dense_gvectors is None:
        matching = candidates
    else:
        matching = [parent for parent in candidates if parent.dense_gvectors == dense_gvectors]
    if matching and len({parent.basis for parent in matching}) == 1:
        return matching[0]
    stems = ", ".join(f"pw.x/{parent.stem} ({parent.dense_gvectors})" for parent in candidates)
    raise ParentNotFoundError(
        f"{name} printed {dense_gvectors} dense G-vectors; the stored runs of its atoms "
        f"({stems}) do not tell its basis: name it with --parent {name}=<pw.x stem>"
    )


def with_parent_basis(
    metadata: RecordingMetadata,
    archive: Path,
    index: dict[str, list[StoredParent]],
    override: str | None = None,
) -> str:
    """``metadata.material`` renormalised, with its parent's basis line (re)computed.

    ``archive`` is the recording's own ``.tar.xz`` (its stdout is the evidence that picks
    the parent, :func:`choose_parent`). A material that names no parent system (pw.x, or a
    child run without a parent) is only renormalised.
    """
    lines = renormalised_material(metadata.material).split("\n")
    material = "\n".join(line for line in lines if not line.startswith(PARENT_BASIS_PREFIX))
    system = _system_line(material)
    if system is None:
        return material
    name = f"{metadata.code}/{archive.name.removesuffix('.tar.xz')}"
    candidates = index.get(system[len(PARENT_SYSTEM_PREFIX) :].strip(), [])
    if not candidates:
        raise ParentNotFoundError(f"{name}: no stored pw.x recording has its parent's atoms")
    parent = choose_parent(candidates, printed_dense_gvectors(archive), name, override)
    if not parent.basis:
        return material
    return material.replace(system, f"{system}\n{PARENT_BASIS_PREFIX}{parent.basis}", 1)
