"""``janus.na_snapshots`` compares snapshot cutoffs in Ry, as its tolerance is written.

aiida-quantumespresso's ``output_parameters["wfc_cutoff"]`` is in eV (its XML parser
multiplies QE's Hartree value by ``hartree_to_ev``, and stores ``wfc_cutoff_units: eV``);
the step used to compare it with a 1e-6 **Ry** tolerance. Reference: CODATA 2018,
1 Ry = 13.605693122994 eV. Driven through the workchain's own step on stand-in nodes (no
QE run), so only the comparison is under test.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiida.common import AttributeDict

RYDBERG_EV = 13.605693122994


def _accept(cutoffs_ry: list[float]) -> list[Any]:
    from workflows.workchains.na_snapshots import NaSnapshotsWorkChain, _key

    ctx = AttributeDict({"remotes": {}, "reference_cutoff": None, "frames": [0, 1]})
    for position, cutoff in enumerate(cutoffs_ry):
        outputs = SimpleNamespace(
            output_parameters={"wfc_cutoff": cutoff * RYDBERG_EV},
            remote_folder=f"remote {position}",
        )
        ctx[_key(position)] = SimpleNamespace(is_finished_ok=True, outputs=outputs)
    chain = SimpleNamespace(ctx=ctx, exit_codes=NaSnapshotsWorkChain.exit_codes)
    return [
        NaSnapshotsWorkChain._accept_snapshot(chain, position)  # type: ignore[arg-type]
        for position in range(len(cutoffs_ry))
    ]


def test_cutoffs_within_the_ry_tolerance_are_accepted() -> None:
    """5e-7 Ry apart (6.8e-6 eV, above 1e-6 when read as eV): the same cutoff."""
    assert _accept([30.0, 30.0 + 5e-7]) == [None, None]


def test_a_different_cutoff_stops_the_workchain() -> None:
    result = _accept([30.0, 30.5])
    assert result[0] is None
    assert result[1].status == 301
    assert "snapshot 1 has ecutwfc = 30.5" in result[1].message
    assert "same cutoff" in result[1].message
