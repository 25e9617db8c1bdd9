"""``janus.alignment``: protocols, bad thicknesses, and a replayed two-model series.

The series replays real QE 6.7 runs (pw.x scf + nscf, projwfc.x, pp.x of the 3+2 and 5+4
CsPbBr3/CdS superlattices and of the strained bulk references, NC 20/80 Ry) recorded in
``tests/fixtures/mock``; re-record with
``scripts/record_fixtures.sh 'tests/workflows/workchains/test_alignment.py'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.workflows.workchains.test_interface import SERIAL

if TYPE_CHECKING:
    from aiida.orm import InstalledCode

CUTOFFS = {"pw": {"parameters": {"SYSTEM": {"ecutwfc": 20.0, "ecutrho": 80.0}}}}
TINY_SERIES: dict[str, Any] = {
    "thicknesses": [[3, 2], [5, 4]],
    "model": {"pseudo_flavour": "nc"},
    "electronic": {
        "pseudo_flavour": "nc",
        "dual": 4.0,
        "scf": {"kpoints_distance": 1.5, **CUTOFFS},
        # 2x2x1 k: tetrahedra need more than one k-point for a PDOS (route 1)
        "nscf": {"kpoints_distance": 0.6, **CUTOFFS},
    },
}
LATTICES = {"perovskite": 5.90, "chalcogenide": 5.88}


@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_builder_per_protocol(protocol: str, study_codes: dict[str, InstalledCode]) -> None:
    """Series, relaxation and cited gaps come from the protocol; HSE06 is never a default."""
    from workflows.workchains.alignment import AlignmentSeriesWorkChain

    builder = AlignmentSeriesWorkChain.get_builder_from_protocol(study_codes, protocol)
    thicknesses = builder.thicknesses.get_list()
    assert len(thicknesses) >= 3
    assert [sum(pair) for pair in thicknesses] == sorted(sum(pair) for pair in thicknesses)
    assert builder.model.relax_atoms.value is (protocol != "fast")
    gaps = builder.experimental_gaps.get_dict()
    assert {gaps[side]["material"] for side in gaps} == {"CsPbBr3", "CdS"}
    assert all(gaps[side]["source"] for side in gaps), "every experimental gap is cited"
    assert "hybrid" not in builder, "HSE06 is opt-in (--hybrid, NC only)"
    ecutwfc = builder.electronic.scf.pw.parameters["SYSTEM"]["ecutwfc"]
    assert (ecutwfc == 30.0) is (protocol == "fast"), "fast: NC at 30/120 Ry like the demo"
    assert builder.electronic.pp_potential.code.pk == study_codes["pp"].pk, "route 2 runs"


@pytest.mark.parametrize(
    ("thicknesses", "message"),
    [
        ([[3, 2]], "at least two models"),
        ([[3, 2], [3, 2]], "repeats a model"),
        ([[3, 2], [0, 4]], "positive integers"),
        ([[3, 2], [5]], "positive integers"),
        ([[3, 2], [5.0, 4]], "positive integers"),
    ],
)
def test_bad_thicknesses_are_refused_before_anything_runs(
    thicknesses: list[Any], message: str
) -> None:
    """The workchain's validator names the problem (the CLI shows the same text)."""
    from aiida.orm import List

    from workflows.workchains.alignment import validate_thicknesses

    error = validate_thicknesses(List(thicknesses), None)
    assert error is not None
    assert message in error


def test_hybrid_gaps_refused_with_paw_before_anything_runs(
    study_codes: dict[str, InstalledCode],
) -> None:
    """QE 6.7's EXX README: hybrids with PAW are not functional; NC (fast) passes."""
    from workflows.workchains.alignment import AlignmentSeriesWorkChain, validate_hybrid

    hybrid = {"hybrid": {"qpoints_mesh": [1, 1, 1], "ecutfock_ry": None}}
    paw = AlignmentSeriesWorkChain.get_builder_from_protocol(study_codes, "balanced", hybrid)
    message = validate_hybrid(paw._inputs(prune=True), None)
    assert message is not None
    assert "NC pseudopotentials" in message
    nc = AlignmentSeriesWorkChain.get_builder_from_protocol(study_codes, "fast", hybrid)
    assert validate_hybrid(nc._inputs(prune=True), None) is None


def test_an_absolute_scf_threshold_is_refused_by_a_series(study_codes: dict[str, Any]) -> None:
    """An absolute conv_thr on the series' template (its thickest model) would give one
    model other inputs in another series: refused, naming the per-atom key to give."""
    from workflows.workchains.alignment import AlignmentSeriesWorkChain

    absolute = {"electronic": {"scf": {"pw": {"parameters": {"ELECTRONS": {"conv_thr": 1e-8}}}}}}
    with pytest.raises(ValueError, match=r"meta_parameters \['conv_thr_per_atom'\]"):
        AlignmentSeriesWorkChain.get_builder_from_protocol(study_codes, "fast", absolute)


def test_electronic_takes_each_reference_once() -> None:
    """A domain's route 2 reference comes computed or as a structure, never both; given
    references need the interface potential like computed ones (janus.electronic)."""
    from aiida.orm import Dict

    from tests.workflows.workchains.test_electronic import superlattice
    from workflows.inputs.electronic_steps import validate_electronic_inputs

    structure, labels = superlattice()
    computed = Dict({"vbm_ev": 1.0, "cbm_ev": 2.0, "mean_potential_ev": 0.0})
    inputs: dict[str, Any] = {
        "structure": structure,
        "site_labels": labels,
        "bulk_references": {"CdS": computed},
    }
    message = validate_electronic_inputs(inputs, None)
    assert message is not None
    assert "pp_potential" in message
    inputs |= {"pp_potential": {}, "lineup_references": {"CdS": structure}}
    message = validate_electronic_inputs(inputs, None)
    assert message is not None
    assert "give each domain's reference once: ['CdS']" in message
    inputs["lineup_references"] = {"ZnS": structure}
    assert validate_electronic_inputs(inputs, None) is None


def test_models_are_sorted_thin_to_thick() -> None:
    """Hand-written order: total planes first, so convergence compares neighbours."""
    from workflows.calcfunctions.alignment import plan_models

    assert plan_models([[7, 6], [3, 2], [5, 4]]) == [(3, 2), (5, 4), (7, 6)]


def test_a_one_plane_domain_is_refused_before_anything_runs() -> None:
    """[3, 1] has one CdS plane (reference: the builder's 9-atom Br3Cd2CsPbS2 model), which
    ``stacking_period`` refuses after the model's whole electronic step; the series refuses
    it up front, naming the fix."""
    from workflows.calcfunctions.alignment import plan_models

    with pytest.raises(ValueError, match=r"\[3, 1\] has a domain of one atomic plane"):
        plan_models([[3, 1], [3, 2]])


def test_thinnest_model_runs_alone_then_the_rest_in_batches() -> None:
    """Hand-written batches: the first model's references serve the later ones."""
    from workflows.calcfunctions.alignment import model_batches

    labels = ["p3_c2", "p5_c4", "p7_c6", "p9_c8"]
    assert model_batches(labels, 1) == [["p3_c2"], ["p5_c4"], ["p7_c6"], ["p9_c8"]]
    assert model_batches(labels, 2) == [["p3_c2"], ["p5_c4", "p7_c6"], ["p9_c8"]]
    assert model_batches(labels, 0) == [["p3_c2"], ["p5_c4", "p7_c6", "p9_c8"]]


def _protocol_thresholds_per_atom(protocol: str) -> dict[str, float]:
    """aiida-quantumespresso's per-atom thresholds of ``protocol`` (Ry), read from the
    installed package's ``workflows/protocols/pw/base.yaml`` (the independent reference)."""
    from importlib.resources import files

    import yaml

    path = files("aiida_quantumespresso") / "workflows" / "protocols" / "pw" / "base.yaml"
    data = yaml.safe_load(path.read_text())
    meta = dict(data["default_inputs"]["meta_parameters"])
    meta.update(data["protocols"][protocol].get("meta_parameters", {}))
    return {key: float(value) for key, value in meta.items()}


def _pw_parameters_in_series(
    study_codes: dict[str, InstalledCode], thicknesses: list[list[int]]
) -> dict[str, dict[str, Any]]:
    """The pw.x parameters the 3+2 model's SCF/NSCF and the two strained bulk reference
    SCFs get at run time in a series of ``thicknesses`` (the workchains' own code path)."""
    from aiida.orm import Dict, StructureData

    from heterostructures.structure.interface import strained_bulk_units
    from heterostructures.structure.interface_spec import build_from_spec, spec_with_lattices
    from workflows.inputs.lineup_references import reference_scf_inputs
    from workflows.inputs.site_labels import labels_from_atoms
    from workflows.protocols import namespace_inputs
    from workflows.workchains.alignment import AlignmentSeriesWorkChain, model_electronic_inputs

    overrides = TINY_SERIES | {"thicknesses": thicknesses}
    builder = AlignmentSeriesWorkChain.get_builder_from_protocol(study_codes, "fast", overrides)
    spec = builder.model.interface.get_dict() | {"perovskite_planes": 3, "chalcogenide_planes": 2}
    atoms = build_from_spec(spec, {}).atoms
    template = namespace_inputs(builder.electronic)
    inputs = model_electronic_inputs(
        template, StructureData(ase=atoms), Dict(labels_from_atoms(atoms))
    )
    parameters = {step: inputs[step]["pw"]["parameters"].get_dict() for step in ("scf", "nscf")}
    thresholds = template.get("thresholds_per_atom")
    for side, unit in strained_bulk_units(spec_with_lattices(spec, {})).items():
        reference = reference_scf_inputs(
            dict(inputs["scf"]),
            StructureData(ase=unit),
            None if thresholds is None else thresholds.get_dict(),
        )
        parameters[side] = reference["pw"]["parameters"].get_dict() | {"atoms": len(unit)}
    parameters["scf"]["atoms"] = parameters["nscf"]["atoms"] = len(atoms)
    return parameters


def test_a_model_gets_the_same_pw_inputs_in_every_series(
    study_codes: dict[str, InstalledCode],
) -> None:
    """The 3+2 model (and the strained bulk references) get the same pw.x parameters in a
    two- and a three-model series, with conv_thr and etot_conv_thr scaled by their OWN atom
    count: identical inputs are what makes a model reproducible and cacheable across series.
    Reference: the per-atom thresholds of aiida-quantumespresso's ``fast`` protocol, read
    from the installed package's protocol YAML."""
    two = _pw_parameters_in_series(study_codes, [[3, 2], [5, 4]])
    three = _pw_parameters_in_series(study_codes, [[3, 2], [5, 4], [7, 6]])
    assert two == three
    per_atom = _protocol_thresholds_per_atom("fast")
    assert set(two) == {"scf", "nscf", "perovskite", "chalcogenide"}
    assert two["scf"]["atoms"] == 13
    for name, parameters in two.items():
        atoms = parameters["atoms"]
        assert parameters["ELECTRONS"]["conv_thr"] == pytest.approx(
            per_atom["conv_thr_per_atom"] * atoms, rel=1e-12
        ), name
        assert parameters["CONTROL"]["etot_conv_thr"] == pytest.approx(
            per_atom["etot_conv_thr_per_atom"] * atoms, rel=1e-12
        ), name


def _run_series(study_codes: dict[str, InstalledCode]) -> tuple[dict[str, Any], Any]:
    from aiida.engine import run_get_node
    from aiida.orm import Dict

    from workflows.workchains.alignment import AlignmentSeriesWorkChain

    builder = AlignmentSeriesWorkChain.get_builder_from_protocol(
        study_codes, "fast", TINY_SERIES, options=SERIAL
    )
    builder.lattices = {side: Dict({"a": a}) for side, a in LATTICES.items()}
    return run_get_node(builder)


@pytest.mark.real_qe
def test_series_end_to_end_on_mocks(study_codes: dict[str, InstalledCode]) -> None:
    """Two replayed models: the table, convergence and corrections follow from the stored
    per-model alignments by hand arithmetic (reference: the rule of issue 19 and
    ΔE_C = ΔE_V + E_g^A − E_g^B, evaluated here from the stored numbers)."""
    results, node = _run_series(study_codes)
    assert node.is_finished_ok, node.exit_message
    assert {label: len(s.sites) for label, s in results["models"].items()} == {
        "p3_c2": 13,
        "p5_c4": 26,
    }
    series = results["series"].get_dict()
    thin = results["alignments"]["p3_c2"].get_dict()["routes"]
    thick_alignment = results["alignments"]["p5_c4"].get_dict()
    thick = thick_alignment["routes"]
    for route in ("projected_dos", "potential_lineup"):
        (valence,) = [
            c for c in series["converged"] if c["route"] == route and c["quantity"] == "valence"
        ]
        assert valence["value_ev"] == pytest.approx(thick[route]["valence_offset_ev"], abs=1e-9)
        change = abs(thick[route]["valence_offset_ev"] - thin[route]["valence_offset_ev"])
        assert valence["uncertainty_ev"] == pytest.approx(change, abs=1e-9)
        assert valence["converged"] is (change <= 0.05)
    verdict_route = series["verdict"]["route"]
    valence = thick[verdict_route]["valence_offset_ev"]
    bulk_gaps = thick_alignment["bulk_gaps_ev"]
    a, b = thick_alignment["domain_a"], thick_alignment["domain_b"]
    corrections = {c["gap_source"]: c for c in series["corrections"]}
    pbe = corrections["PBE"]["conduction_offset_ev"]
    assert pbe == pytest.approx(valence + bulk_gaps[a] - bulk_gaps[b], abs=1e-9)
    if verdict_route == "potential_lineup":
        # Route 2 adds the same strained-bulk PBE gaps: the two must agree exactly.
        assert pbe == pytest.approx(thick[verdict_route]["conduction_offset_ev"], abs=1e-9)
    gaps = node.inputs.experimental_gaps.get_dict()
    expected = valence + gaps[a]["gap_ev"] - gaps[b]["gap_ev"]
    assert corrections["experiment"]["conduction_offset_ev"] == pytest.approx(expected, abs=1e-9)
    assert series["verdict"]["gap_source"] == "experiment"
    assert series["paper"]["a"]["material"] == "CsPbBr3", "the paper's levels beside ours"
    _assert_references_computed_once(node)
    _assert_figures(results)
    _assert_queryable(node)


def _assert_references_computed_once(node: Any) -> None:
    """The strained bulk SCFs run in the thinnest model only; the thicker one reuses them."""
    from aiida.common.links import LinkType
    from aiida.orm import WorkflowNode

    steps = {
        link.link_label: link.node
        for link in node.base.links.get_outgoing(node_class=WorkflowNode).all()
    }
    thin, thick = steps["alignment_p3_c2"], steps["alignment_p5_c4"]

    def called(process: Any) -> set[str]:
        calls = (LinkType.CALL_CALC, LinkType.CALL_WORK)
        return {link.link_label for link in process.base.links.get_outgoing(link_type=calls).all()}

    assert {"reference_scf_perovskite", "reference_scf_chalcogenide"} <= called(thin)
    assert not any("reference" in label for label in called(thick))
    given = {k: v.pk for k, v in thick.inputs.bulk_references.items()}
    assert given == {k: v.pk for k, v in thin.outputs.bulk_references.items()}


def _assert_figures(results: dict[str, Any]) -> None:
    """PNG at 300 dpi and a vector SVG for both figures (read back with PIL)."""
    import io

    from PIL import Image

    for name in ("offsets_vs_thickness", "band_alignment_diagram"):
        with results[name].open(mode="rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            assert round(image.info["dpi"][0]) == 300
        assert "<path" in results[f"{name}_vector"].get_content()


def _assert_queryable(node: Any) -> None:
    """`aiida-janus query alignment` finds the run, with a run time for each model."""
    from workflows.provenance.alignment_queries import alignment_records

    (record,) = [r for r in alignment_records("CsPbBr3", "CdS") if r.pk == node.pk]
    assert set(record.wall_seconds) == {"p3_c2", "p5_c4"}
    assert all(seconds is not None and seconds > 0 for seconds in record.wall_seconds.values())
    assert {row["model"] for row in record.rows} == {"3+2", "5+4"}


@pytest.mark.parametrize("chalcogenide", ["CdS", "ZnS"])
def test_fast_relaxes_on_the_hamiltonian_of_its_alignment(
    chalcogenide: str, study_codes: dict[str, InstalledCode]
) -> None:
    """``alignment --relax`` on ``fast``: the relaxation runs at the cutoffs of the SCF that
    reads its levels (the pair's floor: CdS 30/120, ZnS 50/200 Ry), not the family's
    recommended 60 Ry. Reference: ``profiles/pseudos/nc-cutoff-floors.yaml`` and the
    protocol's dual 4, by hand."""
    from workflows.workchains.alignment import AlignmentSeriesWorkChain

    builder = AlignmentSeriesWorkChain.get_builder_from_protocol(
        study_codes, "fast", {"relax_atoms": True}, chalcogenide=chalcogenide
    )
    expected = {"CdS": (30.0, 120.0), "ZnS": (50.0, 200.0)}[chalcogenide]
    relax = builder.model.relax.pw.parameters["SYSTEM"]
    scf = builder.electronic.scf.pw.parameters["SYSTEM"]
    assert builder.model.relax_atoms.value is True
    assert (relax["ecutwfc"], relax["ecutrho"]) == expected
    assert (scf["ecutwfc"], scf["ecutrho"]) == expected
