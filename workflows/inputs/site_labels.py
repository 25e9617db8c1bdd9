"""Per-site interface labels (domain, layer, fixed) as an AiiDA ``Dict`` beside a structure.

``StructureData`` has no per-site arrays, so the labels that ``heterostructures`` puts on
``ase.Atoms`` (``domain``, ``layer``, ``fixed``) travel as one ``Dict`` node
``{"domain": [...], "layer": [...], "fixed": [...]}`` created by the same calcfunction as
the structure (so provenance links them). pw.x keeps the site order, so the labels stay
valid for relaxed structures and MD snapshots of that structure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm
from ase import Atoms

LABEL_KEYS = ("domain", "layer", "fixed")


class LabelError(ValueError):
    """Labels are missing or do not fit the structure."""


def labels_from_atoms(atoms: Atoms) -> dict[str, list[Any]]:
    """Plain-Python labels from the arrays that ``heterostructures`` sets."""
    missing = [key for key in LABEL_KEYS if key not in atoms.arrays]
    if missing:
        raise LabelError(
            f"structure has no {missing} labels: build it with heterostructures.structure.interface"
        )
    return {
        "domain": [str(value) for value in atoms.arrays["domain"]],
        "layer": [int(value) for value in atoms.arrays["layer"]],
        "fixed": [bool(value) for value in atoms.arrays["fixed"]],
    }


def check_labels(labels: dict[str, Any], n_sites: int) -> None:
    """Raise ``LabelError`` naming the fix when labels do not match ``n_sites`` sites."""
    missing = [key for key in LABEL_KEYS if key not in labels]
    if missing:
        raise LabelError(f"site labels lack {missing}: rebuild the interface with janus.interface")
    wrong = [key for key in LABEL_KEYS if len(labels[key]) != n_sites]
    if wrong:
        raise LabelError(
            f"site labels {wrong} have the wrong length for {n_sites} sites: "
            "the labels belong to another structure"
        )


def interface_labels_error(
    structure: orm.StructureData | None, labels: orm.Dict | None, need: str
) -> str | None:
    """Port-validator check of an interface's labels: why they do not fit ``structure`` or
    name fewer than two domains (the ``need`` of the step, e.g. "IS/FS need"), else None.

    None too while either input is absent (exposed without it, the parent gives it later).
    """
    if structure is None or labels is None:
        return None
    try:
        check_labels(labels.get_dict(), len(structure.sites))
    except LabelError as exception:
        return str(exception)
    domains = sorted(set(labels["domain"]))
    if len(domains) < 2:
        return (
            f"site labels name domains {domains}: {need} an interface with two labelled "
            "domains; build it with janus.interface"
        )
    return None


def labelled_atoms(structure: orm.StructureData, labels: orm.Dict) -> Atoms:
    """``ase.Atoms`` of a structure with the label arrays attached again."""
    atoms = structure.get_ase()
    values = labels.get_dict()
    check_labels(values, len(atoms))
    atoms.set_array("domain", np.array(values["domain"], dtype=str))
    atoms.set_array("layer", np.array(values["layer"], dtype=int))
    atoms.set_array("fixed", np.array(values["fixed"], dtype=bool))
    return atoms


def fixed_coords(labels: orm.Dict) -> list[list[bool]]:
    """aiida-quantumespresso ``settings['FIXED_COORDS']`` from the ``fixed`` labels."""
    return [[flag, flag, flag] for flag in labels.get_dict()["fixed"]]
