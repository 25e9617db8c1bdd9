"""Cutoff and threshold rules of ``workflows/inputs/pw_builders.py`` on the step builders.

References: aiida-quantumespresso's ``PwBaseWorkChain.get_builder_from_protocol``
(``workflows/pw/base.py``: ``conv_thr`` = atoms × ``conv_thr_per_atom``, then "If overrides
are provided, they are considered absolute"), ``na_snapshots.yaml``'s ``fast`` conv_thr
(1e-8 Ry) and hand arithmetic on the 2-atom CdS trajectory of test_na_snapshots.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.workflows.workchains.test_aimd import TINY_PW, _cds
from tests.workflows.workchains.test_na_snapshots import TINY_SCF, _snapshots_builder

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

FAST_SNAPSHOT_CONV_THR = 1.0e-8  # Ry, workflows/protocols/na_snapshots.yaml
ATOMS = 2  # Cd + S


@pytest.fixture
def pw(mock_code: Callable[..., InstalledCode]) -> InstalledCode:
    return mock_code("pw.x")


@pytest.fixture
def nc_family(pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily]) -> str:
    return pseudo_family("nc").label


def _scf(meta: dict[str, float] | None = None, conv_thr: float | None = None) -> dict[str, Any]:
    scf: dict[str, Any] = {
        "pw": {"parameters": {"SYSTEM": dict(TINY_SCF["scf"]["pw"]["parameters"]["SYSTEM"])}}
    }
    if meta is not None:
        scf["meta_parameters"] = meta
    if conv_thr is not None:
        scf["pw"]["parameters"]["ELECTRONS"] = {"conv_thr": conv_thr}
    return {"scf": scf}


@pytest.mark.usefixtures("nc_family")
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (_scf(), FAST_SNAPSHOT_CONV_THR),  # the protocol's absolute value, as recorded
        (_scf({"conv_thr_per_atom": 3.0e-9}), ATOMS * 3.0e-9),  # per atom × 2 atoms
        (_scf({"conv_thr_per_atom": 3.0e-9}, conv_thr=5.0e-7), 5.0e-7),  # absolute wins
        (_scf({"etot_conv_thr_per_atom": 1.0}), FAST_SNAPSHOT_CONV_THR),  # no conv_thr given
    ],
)
def test_snapshot_conv_thr_honours_a_callers_per_atom_value(
    pw: InstalledCode, overrides: dict[str, Any], expected: float
) -> None:
    builder = _snapshots_builder(pw, overrides=overrides)
    assert builder.scf.pw.parameters["ELECTRONS"]["conv_thr"] == pytest.approx(expected)


@pytest.mark.usefixtures("nc_family")
def test_fast_snapshot_parameters_unchanged(pw: InstalledCode) -> None:
    """The recorded fast snapshot input: the tiny overrides alone give the protocol's
    absolute conv_thr and aiida-quantumespresso's etot_conv_thr (2 × 1e-4 Ry)."""
    parameters = _snapshots_builder(pw, overrides=TINY_SCF).scf.pw.parameters.get_dict()
    assert parameters["ELECTRONS"]["conv_thr"] == FAST_SNAPSHOT_CONV_THR
    assert parameters["CONTROL"]["etot_conv_thr"] == pytest.approx(ATOMS * 1.0e-4)


def test_per_atom_conv_thr_given_drops_only_the_protocols_value() -> None:
    from workflows.inputs.pw_builders import per_atom_conv_thr_given

    merged = {"pw": {"parameters": {"ELECTRONS": {"conv_thr": 1e-9, "mixing_beta": 0.3}}}}
    caller = {"meta_parameters": {"conv_thr_per_atom": 1e-6}}
    dropped = per_atom_conv_thr_given(merged, caller)
    assert dropped["pw"]["parameters"]["ELECTRONS"] == {"mixing_beta": 0.3}
    assert merged["pw"]["parameters"]["ELECTRONS"]["conv_thr"] == 1e-9, "input not mutated"
    assert per_atom_conv_thr_given(merged, None) == merged


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ({}, "dual"),  # family ecutwfc, 8 × it
        ({"ecutwfc": 25.0}, (25.0, 200.0)),  # a given ecutwfc gets 8 × it
        ({"ecutwfc": 25.0, "ecutrho": 100.0}, (25.0, 100.0)),  # given cutoffs win
    ],
)
def test_md_cutoffs_follow_the_dual_rule(
    pw: InstalledCode, nc_family: str, system: dict[str, float], expected: Any
) -> None:
    from aiida.orm import load_group

    from workflows.workchains.aimd import AimdWorkChain

    md = {"kpoints_distance": TINY_PW["kpoints_distance"], "pw": {"parameters": {"SYSTEM": system}}}
    builder = AimdWorkChain.get_builder_from_protocol(
        pw, _cds(), protocol="balanced", overrides={"md": md}, pseudo_family=nc_family
    )
    given = builder.md.pw.parameters.get_dict()["SYSTEM"]
    if expected == "dual":
        recommended, _ = load_group(nc_family).get_recommended_cutoffs(
            elements=("Cd", "S"), unit="Ry"
        )
        expected = (recommended, 8.0 * recommended)
    assert (given["ecutwfc"], given["ecutrho"]) == pytest.approx(expected)
