"""The size bound of ``aiida-janus build`` on a model built on the cell as given.

The library bounds an automatic coincidence cell (``max_atoms``, default 300 there) but
not a 1:1 cell with many planes (``--perovskite-planes 201 --chalcogenide-planes 200``
is 1300 atoms). ``build`` writes structure files and a picture, so it stops at
:data:`BUILD_MAX_ATOMS` unless ``--max-atoms`` says otherwise; a coincidence cell keeps
the library's own cap, so ``build`` previews exactly what ``run`` would use.
"""

from __future__ import annotations

from typing import Any

BUILD_MAX_ATOMS = 1000
"""Atoms ``build`` writes without ``--max-atoms`` (the paper's relation has 629)."""
MAX_PLANES = 500
"""Most planes per side ``--perovskite-planes``/``--chalcogenide-planes`` accept: the slabs
are stacked before the atom bound is checked."""


def default_atom_bound(spec: dict[str, Any]) -> int | None:
    """:data:`BUILD_MAX_ATOMS` when ``spec`` keeps the cell as given (1:1 or its own
    directions), None when a coincidence cell is chosen (the library's cap applies).

    Raises the library's ``StructureInputError`` for a spec it cannot build.
    """
    from heterostructures.structure.coincidence import resolve_cell
    from heterostructures.structure.interface_spec import spec_with_lattices

    _, cell = resolve_cell(spec_with_lattices(spec, {}))
    return BUILD_MAX_ATOMS if cell is None else None


def bound_hint(bound: int | None) -> str:
    """What to add to a refusal caused by the default bound: the option that raises it."""
    if bound is None:
        return ""
    return f" (`build` stops at {bound} atoms: pass --max-atoms N to build a larger model)"
