"""Cutoff floors: a protocol's explicit cutoffs never go below what the pair's NC
pseudopotentials need (``workflows/inputs/cutoff_floors.py``).

References: the floors are QE 6.7 measurements on this family, written with their data in
``profiles/pseudos/nc-cutoff-floors.yaml`` (zinc-blende ZnS gap 0.444 eV at 30 Ry against
1.984 eV at 80 Ry and 2.074 eV with PAW; Materials Project's PBE gap of ZnS is ≈ 2 eV).
The raised values are checked by hand arithmetic (dual kept: 50 × 120 / 30 = 200 Ry), and
on the builders a user gets from ``aiida-janus run`` / ``aiida-janus alignment``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from workflows.inputs.cutoff_floors import (
    FLOORS_FILE,
    cutoff_floor,
    cutoff_floors,
    pair_elements,
    raise_cutoffs_to_floor,
)
from workflows.setup.paths import PROFILES_DIR

if TYPE_CHECKING:
    from aiida.orm import InstalledCode

FAST = {"ecutwfc": 30.0, "ecutrho": 120.0}


def test_every_nc_element_has_a_floor_at_or_below_its_recommendation() -> None:
    """The floors cover the NC family (nc-cutoffs.yaml) and never exceed its recommended
    cutoffs: a floor is the least a protocol may use, the recommendation what it should."""
    recommended = yaml.safe_load((PROFILES_DIR / "pseudos" / "nc-cutoffs.yaml").read_text())
    floors = cutoff_floors()
    assert set(floors) == set(recommended)
    for element, floor in floors.items():
        assert 0 < floor <= float(recommended[element]), element
    assert FLOORS_FILE.is_file()


def test_floor_of_a_pair_is_its_largest_element_floor() -> None:
    assert pair_elements("CsPbBr3", "ZnS") == {"Cs", "Pb", "Br", "Zn", "S"}
    assert cutoff_floor(pair_elements("CsPbBr3", "ZnS")) == 50.0
    assert cutoff_floor(pair_elements("CsPbBr3", "CdS")) == 30.0
    assert cutoff_floor(["Xx"]) == 0.0
    assert cutoff_floor([]) == 0.0


def test_raise_keeps_the_dual_and_copies() -> None:
    """30/120 Ry with Zn → 50/200 Ry (same dual 4); deeper nesting and lists too; the
    input is not modified."""
    steps: dict[str, Any] = {
        "electronic": {"scf": {"pw": {"parameters": {"SYSTEM": dict(FAST)}}}},
        "series": [{"pw": {"parameters": {"SYSTEM": {"ecutwfc": 30.0}}}}],
        "bulk": {"dual": 6.0},
    }
    raised = raise_cutoffs_to_floor(steps, {"Zn", "S"})
    system = raised["electronic"]["scf"]["pw"]["parameters"]["SYSTEM"]
    assert system == {"ecutwfc": 50.0, "ecutrho": pytest.approx(200.0)}
    assert raised["series"][0]["pw"]["parameters"]["SYSTEM"] == {"ecutwfc": 50.0}
    assert raised["bulk"] == {"dual": 6.0}
    assert steps["electronic"]["scf"]["pw"]["parameters"]["SYSTEM"] == FAST


def test_raise_leaves_cutoffs_at_or_above_the_floor() -> None:
    """CdS pairs keep 30/120 Ry (every recording of the demo replays); 60 Ry stays 60."""
    steps = {"a": {"SYSTEM": dict(FAST)}, "b": {"SYSTEM": {"ecutwfc": 60.0, "ecutrho": 240.0}}}
    assert raise_cutoffs_to_floor(steps, pair_elements("CsPbBr3", "CdS")) == steps
    raised = raise_cutoffs_to_floor(steps, {"Zn"})
    assert raised["b"] == steps["b"]


def _systems(builder: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, SYSTEM namelist) of every pw.x input of a pipeline builder."""
    yield "interface", builder.interface.relax.pw.parameters["SYSTEM"]
    for step in ("scf", "nscf"):
        yield f"electronic.{step}", builder.electronic[step].pw.parameters["SYSTEM"]
        yield f"alignment.{step}", builder.alignment.electronic[step].pw.parameters["SYSTEM"]
    yield "aimd", builder.aimd.md.pw.parameters["SYSTEM"]
    yield "na_snapshots", builder.na_snapshots.scf.pw.parameters["SYSTEM"]


@pytest.mark.parametrize(
    ("chalcogenide", "expected"), [("CdS", (30.0, 120.0)), ("ZnS", (50.0, 200.0))]
)
def test_fast_pipeline_cutoffs_per_pair(
    chalcogenide: str, expected: tuple[float, float], study_codes: dict[str, InstalledCode]
) -> None:
    """``aiida-janus run --chalcogenide ZnS`` (``fast``): every NC step at 50/200 Ry, one
    Hamiltonian from relaxation to NA snapshots; CsPbBr3/CdS unchanged at 30/120 Ry."""
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes, "CsPbBr3", chalcogenide, protocol="fast"
    )
    for name, system in _systems(builder):
        assert (system["ecutwfc"], system["ecutrho"]) == pytest.approx(expected), name


def test_explicit_overrides_win_over_the_floor(study_codes: dict[str, InstalledCode]) -> None:
    """A caller's own cutoffs (a convergence study) are not raised."""
    from workflows.workchains.pipeline import PipelineWorkChain

    own = {"pw": {"parameters": {"SYSTEM": {"ecutwfc": 40.0, "ecutrho": 160.0}}}}
    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes, "CsPbBr3", "ZnS", protocol="fast", overrides={"electronic": {"scf": own}}
    )
    system = builder.electronic.scf.pw.parameters["SYSTEM"]
    assert (system["ecutwfc"], system["ecutrho"]) == (40.0, 160.0)
    assert builder.electronic.nscf.pw.parameters["SYSTEM"]["ecutwfc"] == 50.0


def test_fast_alignment_series_cutoffs_for_zns(study_codes: dict[str, InstalledCode]) -> None:
    """``aiida-janus alignment --chalcogenide ZnS`` (``fast``) gets the floor as well."""
    from workflows.workchains.alignment import AlignmentSeriesWorkChain

    builder = AlignmentSeriesWorkChain.get_builder_from_protocol(
        study_codes, "fast", perovskite="CsPbBr3", chalcogenide="ZnS"
    )
    for step in ("scf", "nscf"):
        system = builder.electronic[step].pw.parameters["SYSTEM"]
        assert (system["ecutwfc"], system["ecutrho"]) == pytest.approx((50.0, 200.0)), step


def test_plan_marks_raised_cutoffs_as_lower_bounds() -> None:
    """``aiida-janus plan``: the ``fast`` cost model was measured at 30/120 Ry, so a ZnS pair
    (raised to 50/200 Ry) is no longer the measured case and gets lower bounds."""
    from workflows.inputs.study_size import study_size

    assert study_size("fast", "CsPbBr3", "CdS").matches_fast
    assert not study_size("fast", "CsPbBr3", "ZnS").matches_fast


def test_an_ecutwfc_alone_keeps_the_dual() -> None:
    """Hand arithmetic: an override's 80 Ry alone onto the protocol's 50/200 Ry (dual 4)
    gives 80/320 Ry, not 80/200 (dual 2.5); 250 Ry alone would have been rejected by pw.x
    (ecutrho < ecutwfc). Where the protocol states no cutoffs the override is left alone
    (the builders then complete it with the step's own ``dual``: ``with_ecutrho``)."""
    from workflows.inputs.cutoff_floors import merge_keeping_dual, with_ecutrho

    protocol = {"scf": {"SYSTEM": {"ecutwfc": 50.0, "ecutrho": 200.0}}, "bulk": {"dual": 8.0}}
    given = {"scf": {"SYSTEM": {"ecutwfc": 80.0}}, "bulk": {"SYSTEM": {"ecutwfc": 25.0}}}
    merged = merge_keeping_dual(protocol, given)
    assert merged["scf"]["SYSTEM"] == {"ecutwfc": 80.0, "ecutrho": pytest.approx(320.0)}
    assert merged["bulk"]["SYSTEM"] == {"ecutwfc": 25.0}
    assert given["scf"]["SYSTEM"] == {"ecutwfc": 80.0}, "the caller's dict is not changed"
    assert with_ecutrho(given, 8.0)["bulk"]["SYSTEM"] == {"ecutwfc": 25.0, "ecutrho": 200.0}
    both = {"SYSTEM": {"ecutwfc": 80.0, "ecutrho": 480.0}}
    assert with_ecutrho(both, 4.0) == both


def test_pipeline_override_of_ecutwfc_alone(study_codes: dict[str, InstalledCode]) -> None:
    """``overrides={"electronic": {"scf": {... "ecutwfc": 80}}}`` on a ZnS ``fast`` study:
    the SCF runs at 80/320 Ry (the protocol's dual 4), the NSCF keeps the floor."""
    from workflows.workchains.pipeline import PipelineWorkChain

    own = {"pw": {"parameters": {"SYSTEM": {"ecutwfc": 80.0}}}}
    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes, "CsPbBr3", "ZnS", protocol="fast", overrides={"electronic": {"scf": own}}
    )
    system = builder.electronic.scf.pw.parameters["SYSTEM"]
    assert (system["ecutwfc"], system["ecutrho"]) == pytest.approx((80.0, 320.0))


def test_given_structure_study_gets_the_floor(study_codes: dict[str, InstalledCode]) -> None:
    """``run --structure FILE --chalcogenide ZnS`` (a restart on a relaxed interface): the
    same 50/200 Ry as a study that builds its own interface."""
    from aiida.orm import Dict, StructureData

    from heterostructures.structure.interface_spec import build_from_spec
    from workflows.inputs.given_structure import pipeline_builder_on_structure
    from workflows.inputs.site_labels import labels_from_atoms
    from workflows.workchains.pipeline import PipelineWorkChain

    full = PipelineWorkChain.get_builder_from_protocol(study_codes, "CsPbBr3", "ZnS", "fast")
    atoms = build_from_spec(full.interface.interface.get_dict(), {}).atoms
    builder = pipeline_builder_on_structure(
        study_codes, "CsPbBr3", "ZnS", "fast", StructureData(ase=atoms),
        Dict(labels_from_atoms(atoms)),
    )  # fmt: skip
    for name in ("scf", "nscf"):
        system = builder.electronic[name].pw.parameters["SYSTEM"]
        assert (system["ecutwfc"], system["ecutrho"]) == pytest.approx((50.0, 200.0)), name
    system = builder.aimd.md.pw.parameters["SYSTEM"]
    assert (system["ecutwfc"], system["ecutrho"]) == pytest.approx((50.0, 200.0))


def test_hybrid_ecutfock_is_checked_when_the_series_is_built(
    study_codes: dict[str, InstalledCode],
) -> None:
    """An ``ecutfock`` of 40 Ry was valid at 30/120 Ry; under ZnS's 50/200 Ry it lies
    outside [ecutwfc, ecutrho], which QE 6.7 rejects: refused before anything runs."""
    from workflows.inputs.hybrid_scf import HybridSettingsError
    from workflows.workchains.alignment import AlignmentSeriesWorkChain

    hybrid = {"hybrid": {"ecutfock_ry": 40.0}}
    with pytest.raises(HybridSettingsError, match=r"ecutfock 40\.0 Ry outside"):
        AlignmentSeriesWorkChain.get_builder_from_protocol(
            study_codes, "fast", hybrid, perovskite="CsPbBr3", chalcogenide="ZnS"
        )
    AlignmentSeriesWorkChain.get_builder_from_protocol(study_codes, "fast", hybrid)


@pytest.mark.usefixtures("aiida_profile")
def test_nscf_takes_the_scf_cutoffs() -> None:
    """``janus.electronic`` runs its NSCF at the SCF's cutoffs (the density it reads):
    an override of ``scf`` alone (80/320 Ry) is carried to the NSCF (50/200 Ry before);
    equal cutoffs, as in every recording, leave the NSCF's parameters node untouched."""
    from aiida.common import AttributeDict
    from aiida.orm import Dict

    from workflows.inputs.electronic_steps import with_scf_cutoffs

    nscf = Dict({"SYSTEM": {"ecutwfc": 50.0, "ecutrho": 200.0, "nosym": True}})
    pw = AttributeDict({"parameters": nscf})
    scf = Dict({"SYSTEM": {"ecutwfc": 80.0, "ecutrho": 320.0}})
    assert with_scf_cutoffs(pw, scf) == {"ecutwfc": (50.0, 80.0), "ecutrho": (200.0, 320.0)}
    assert pw.parameters.get_dict()["SYSTEM"] == {"ecutwfc": 80.0, "ecutrho": 320.0, "nosym": True}
    same = AttributeDict({"parameters": nscf})
    assert with_scf_cutoffs(same, Dict({"SYSTEM": {"ecutwfc": 50.0, "ecutrho": 200.0}})) == {}
    assert same.parameters is nscf
