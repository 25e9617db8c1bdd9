"""``janus.electronic``: builder snapshots, bad input, and a replayed end-to-end run.

The end-to-end run replays real QE 6.7 runs (pw.x scf + nscf, projwfc.x, pp.x) of a
4-atom CdS/ZnS (001) superlattice recorded in ``tests/fixtures/mock`` (see its README).
All six recordings this module and ``test_densities`` replay are made, with real QE
(serial, ~2 min), by one command::

    scripts/record_fixtures.sh \
        'tests/workflows/workchains/test_charge_densities.py::test_transfer_densities_end_to_end'

The recordings run at 30/120 Ry, below the NC Zn floor (50 Ry,
``profiles/pseudos/nc-cutoff-floors.yaml``): they test the mechanics (parsers, identities,
selection), and no ZnS level of theirs is a converged number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from aiida.orm import Dict, InstalledCode, StructureData
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

SUPERLATTICE_CELL = (3.970405, 3.970405, 5.615)
SUPERLATTICE_SITES = (
    ("Cd", (0.0, 0.0, 0.0), "CdS"),
    ("S", (0.5, 0.0, 0.259127), "CdS"),
    ("Zn", (0.5, 0.5, 0.518255), "ZnS"),
    ("S", (0.0, 0.5, 0.759127), "ZnS"),
)
MOCK_OPTIONS = {
    "resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1},
    "withmpi": False,
    "max_wallclock_seconds": 600,
}
CUTOFFS_RY = {"ecutwfc": 30.0, "ecutrho": 120.0}
# Tiny and cheap: NC pseudos, 30/120 Ry, scf 2x2x1 k, nscf 2x2x2 (8 k, nosym), 26 bands.
TINY = {
    "pseudo_flavour": "nc",
    "dual": 4.0,
    "analysis": {"domains": ["ZnS", "CdS"]},
    "scf": {"kpoints_distance": 1.2, "pw": {"parameters": {"SYSTEM": CUTOFFS_RY}}},
    "nscf": {"kpoints_distance": 0.8, "pw": {"parameters": {"SYSTEM": CUTOFFS_RY}}},
    "projwfc": {"parameters": {"PROJWFC": {"deltae": 0.05}}},
}


def superlattice() -> tuple[StructureData, Dict]:
    """CdS/ZnS (001), one cation and one anion plane per domain, and its site labels."""
    from aiida.orm import Dict, StructureData
    from ase import Atoms

    atoms = Atoms(
        [symbol for symbol, _, _ in SUPERLATTICE_SITES],
        scaled_positions=[position for _, position, _ in SUPERLATTICE_SITES],
        cell=np.diag(SUPERLATTICE_CELL),
        pbc=True,
    )
    labels = {
        "domain": [domain for _, _, domain in SUPERLATTICE_SITES],
        "layer": [1, 1, 1, 1],
        "fixed": [False] * 4,
    }
    return StructureData(ase=atoms), Dict(labels)


def tiny_builder(codes: dict[str, InstalledCode], with_potential: bool = True) -> Any:
    """The recorded run's builder (``fast`` protocol + :data:`TINY`, mock codes)."""
    from workflows.workchains.electronic import ElectronicWorkChain

    structure, labels = superlattice()
    return ElectronicWorkChain.get_builder_from_protocol(
        codes["pw.x"],
        codes["projwfc.x"],
        structure,
        labels,
        protocol="fast",
        overrides=TINY,
        code_pp=codes["pp.x"] if with_potential else None,
        options=MOCK_OPTIONS,
    )


def plain(value: Any) -> Any:
    """Builder contents as YAML-friendly data (node → its content) for snapshots."""
    from aiida import orm

    if isinstance(value, orm.Dict):
        return value.get_dict()
    if isinstance(value, orm.KpointsData):
        return {"mesh": list(value.get_kpoints_mesh()[0])}
    if isinstance(value, orm.AbstractCode):
        return value.default_calc_job_plugin
    if isinstance(value, orm.StructureData):
        return value.get_formula()
    if isinstance(value, orm.Data) and hasattr(value, "filename"):
        return value.filename
    if isinstance(value, orm.BaseType):
        return value.value
    if hasattr(value, "items"):
        return {key: plain(item) for key, item in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_builder_snapshot_per_protocol(
    protocol: str,
    mock_code: Callable[..., InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
    data_regression: Any,
) -> None:
    from workflows.workchains.electronic import ElectronicWorkChain

    pseudo_family("paw")
    structure, labels = superlattice()
    builder = ElectronicWorkChain.get_builder_from_protocol(
        mock_code("pw.x"), mock_code("projwfc.x"), structure, labels, protocol=protocol,
        code_pp=mock_code("pp.x"),
    )  # fmt: skip
    snapshot = plain(builder._inputs(prune=True))
    assert snapshot["nscf"]["pw"]["parameters"]["SYSTEM"]["occupations"] == "tetrahedra_opt"
    assert snapshot["nscf"]["pw"]["settings"] == {"PARENT_FOLDER_SYMLINK": False}
    data_regression.check(snapshot)


def test_builder_refuses_bad_labels_and_protocols(mock_codes: dict[str, InstalledCode]) -> None:
    from aiida.orm import Dict, Node, QueryBuilder

    from workflows.inputs.site_labels import LabelError
    from workflows.protocols import UnknownProtocolError
    from workflows.workchains.electronic import ElectronicWorkChain

    structure, labels = superlattice()
    nodes_before = QueryBuilder().append(Node).count()
    short = Dict({key: value[:3] for key, value in labels.get_dict().items()})
    with pytest.raises(LabelError, match="wrong length for 4 sites"):
        ElectronicWorkChain.get_builder_from_protocol(
            mock_codes["pw.x"], mock_codes["projwfc.x"], structure, short
        )
    with pytest.raises(LabelError, match="lack"):
        ElectronicWorkChain.get_builder_from_protocol(
            mock_codes["pw.x"], mock_codes["projwfc.x"], structure, Dict({})
        )
    with pytest.raises(UnknownProtocolError, match="choose one of"):
        ElectronicWorkChain.get_builder_from_protocol(
            mock_codes["pw.x"], mock_codes["projwfc.x"], structure, labels, protocol="quick"
        )
    assert QueryBuilder().append(Node).count() == nodes_before


def test_launch_refuses_non_interface_labels(mock_codes: dict[str, InstalledCode]) -> None:
    """Labels naming one domain (or an absent one) fail validation: nothing is stored."""
    from aiida.engine import run
    from aiida.orm import Dict, Node, QueryBuilder

    builder = tiny_builder(mock_codes, with_potential=False)
    nodes_before = QueryBuilder().append(Node).count()
    builder.site_labels = Dict({"domain": ["CdS"] * 4, "layer": [1] * 4, "fixed": [False] * 4})
    with pytest.raises(ValueError, match="needs an interface with two labelled domains"):
        run(builder)
    builder = tiny_builder(mock_codes, with_potential=False)
    builder.analysis = Dict({"domains": ["CsPbBr3", "CdS"]})
    with pytest.raises(ValueError, match=r"requested \['CsPbBr3', 'CdS'\]"):
        run(builder)
    assert QueryBuilder().append(Node).count() == nodes_before  # validated before storing


def strained_references() -> dict[str, StructureData]:
    """Bulk CdS and ZnS in the superlattice's in-plane cell (both ideal zinc blende, a =
    5.615 Å along z as in the superlattice): the route 2 references of the tiny run."""
    from aiida.orm import StructureData
    from ase import Atoms

    positions = [(0.0, 0.0, 0.0), (0.5, 0.0, 0.25), (0.5, 0.5, 0.5), (0.0, 0.5, 0.75)]
    references = {}
    for domain, cation in (("CdS", "Cd"), ("ZnS", "Zn")):
        atoms = Atoms(
            [cation, "S", cation, "S"],
            scaled_positions=positions,
            cell=np.diag(SUPERLATTICE_CELL),
            pbc=True,
        )
        references[domain] = StructureData(ase=atoms)
    return references


def run_tiny_electronic(codes: dict[str, InstalledCode], with_references: bool = False) -> Any:
    """Run the recorded workchain; fail with its report if it does not finish ok."""
    from aiida.cmdline.utils.common import get_workchain_report
    from aiida.engine import run_get_node
    from aiida.orm import WorkChainNode

    builder = tiny_builder(codes)
    if with_references:
        builder.lineup_references = strained_references()
    _, node = run_get_node(builder)
    assert isinstance(node, WorkChainNode)
    assert node.is_finished_ok, get_workchain_report(node, "REPORT")
    return node


def test_band_alignment_end_to_end(
    mock_codes: dict[str, InstalledCode], monkeypatch: pytest.MonkeyPatch
) -> None:
    node = run_tiny_electronic(mock_codes)
    alignment = node.outputs.band_alignment.get_dict()
    assert alignment["status"] == "determined"
    assert alignment["level_of_theory"].startswith("PBE, no spin–orbit")
    routes = alignment["routes"]
    for route in routes.values():
        (a, b) = route["edges"]
        assert route["valence_offset_ev"] == pytest.approx(a["vbm_ev"] - b["vbm_ev"])
        assert route["conduction_offset_ev"] == pytest.approx(a["cbm_ev"] - b["cbm_ev"])
        assert a["gap_ev"] > 0
        assert b["gap_ev"] > 0
    # One period: no bulk-like middle layers, both domains share the KS edge states, so
    # the eigenvalue route gives zero offsets and both routes are flagged as unresolved.
    assert routes["eigenvalues"]["valence_offset_ev"] == 0.0
    assert routes["eigenvalues"]["conduction_offset_ev"] == 0.0
    assert len(alignment["warnings"]) == 2
    # KS route: each domain's gap brackets the interface HOMO-LUMO midgap reference.
    for edges in routes["eigenvalues"]["edges"]:
        assert edges["vbm_ev"] < alignment["reference_ev"] < edges["cbm_ev"]
    check_projected_dos_and_plots(node)
    check_provenance(node)
    lineup = alignment["potential_lineup"]
    assert abs(lineup["delta_v_ev"]) < 5.0
    assert "bulk references" in lineup["note"]
    profile = node.outputs.potential_profile
    # The macroscopic average is a box filter: it keeps the cell average of V.
    assert profile.get_array("macroscopic_ry").mean() == pytest.approx(
        profile.get_array("planar_ry").mean(), abs=1e-9
    )
    check_metallic_result_is_undetermined(node, monkeypatch)


def test_potential_lineup_with_strained_bulk_references(
    mock_codes: dict[str, InstalledCode],
) -> None:
    """Route 2 with bulk references: the offsets obey the line-up identities exactly."""
    node = run_tiny_electronic(mock_codes, with_references=True)
    alignment = node.outputs.band_alignment.get_dict()
    route = alignment["routes"]["potential_lineup"]
    bulk = route["bulk_references"]
    assert set(node.outputs.bulk_references) == {"CdS", "ZnS"}
    assert node.outputs.bulk_references["CdS"].get_dict() == pytest.approx(bulk["CdS"])
    delta_v = alignment["potential_lineup"]["delta_v_ev"]
    assert route["delta_v_ev"] == delta_v
    # ΔE_V = (E_V − V̄)_A − (E_V − V̄)_B + ΔV with A = ZnS (analysis.domains), B = CdS.
    assert route["valence_offset_ev"] == pytest.approx(
        bulk["ZnS"]["vbm_minus_potential_ev"] - bulk["CdS"]["vbm_minus_potential_ev"] + delta_v
    )
    # Both routes of one calculation: ΔE_V − ΔE_C = gap_B − gap_A of the bulk references.
    assert route["valence_offset_ev"] - route["conduction_offset_ev"] == pytest.approx(
        bulk["CdS"]["gap_ev"] - bulk["ZnS"]["gap_ev"]
    )
    # Both references are insulators (at 30 Ry NC, in the superlattice's cell: CdS 1.27 eV
    # under compression, ZnS 0.48 eV under 3.8 % tension; recorded values).
    assert bulk["CdS"]["gap_ev"] > 0.3
    assert bulk["ZnS"]["gap_ev"] > 0.3
    assert alignment["bulk_gaps_ev"] == pytest.approx(
        {d: bulk[d]["gap_ev"] for d in ("ZnS", "CdS")}
    )
    called = {link.link_label for link in node.base.links.get_outgoing().all()}
    assert {
        "reference_scf_CdS",
        "reference_scf_ZnS",
        "reference_pp_CdS",
        "reference_pp_ZnS",
    } <= called
    # The reference SCF shares the interface's pseudopotentials and cutoffs.
    scf = node.base.links.get_outgoing(link_label_filter="scf").one().node
    reference = node.base.links.get_outgoing(link_label_filter="reference_scf_CdS").one().node
    for key in ("ecutwfc", "ecutrho"):
        assert (
            reference.inputs.pw.parameters["SYSTEM"][key] == scf.inputs.pw.parameters["SYSTEM"][key]
        )
    assert reference.inputs.pw.pseudos["Cd"].uuid == scf.inputs.pw.pseudos["Cd"].uuid
    assert all(n % 2 == 0 for n in reference.inputs.kpoints.get_kpoints_mesh()[0])


def test_potential_step_windows_are_each_domains_period(tmp_path: Any) -> None:
    """Reference: the closed-form synthetic profile of ``test_lineup_windows`` (step 0.680
    eV, oscillations of period 4.1 Å in the perovskite and 2.9 Å in CdS) written as a cube.

    The workflow's route 2 step derives both windows from the planes and recovers ΔV
    within 1 meV on flat plateaus; the former default (one window of cell length ÷ layer
    labels, 5.34 Å) gave ΔV 0.30 eV off with a 4.3 eV plateau spread.
    """
    from heterostructures.electronic.alignment_analysis import SiteLabels, analyse_potential
    from heterostructures.io.cube import CubeGrid, write_cube
    from heterostructures.units import BOHR_ANGSTROM
    from tests.heterostructures.electronic.test_lineup_windows import (
        RYDBERG_EV,
        STEP_RY,
        synthetic_interface,
        synthetic_potential,
    )

    sites, length = synthetic_interface()
    z = np.arange(800) * length / 800
    planar = synthetic_potential(z, length)
    voxel = np.diag([1.0, 1.0, length / 800 / BOHR_ANGSTROM])
    grid = CubeGrid(
        np.broadcast_to(planar, (2, 2, 800)).copy(), np.zeros(3), voxel, np.array([1]),
        np.zeros((1, 3)),
    )  # fmt: skip
    labels = SiteLabels(
        list(sites.domains), list(sites.layers), list(sites.symbols), list(sites.z_ang)
    )
    summary, arrays = analyse_potential(
        write_cube(tmp_path / "potential.cube", grid), labels, ("perovskite", "chalcogenide"),
        {"n_middle_layers": 1, "lineup_periods_ang": None},
    )  # fmt: skip
    assert summary["windows_ang"] == pytest.approx([4.1, 2.9], abs=1e-6)
    assert summary["delta_v_ev"] == pytest.approx(STEP_RY * RYDBERG_EV, abs=1e-3)
    assert max(summary["plateau_spread_ev"].values()) < 1e-3
    assert "warning" not in summary
    assert arrays["macroscopic_ry"].mean() == pytest.approx(planar.mean(), abs=1e-6)


def check_projected_dos_and_plots(node: Any) -> None:
    """Domain, element and layer PDOS are partitions of the same total; PNGs are PNGs."""
    pdos = node.outputs.projected_dos
    by_domain, by_element = pdos.get_array("pdos_by_domain"), pdos.get_array("pdos_by_element")
    assert pdos.base.attributes.get("keys_by_domain") == ["CdS", "ZnS"]
    # projwfc prints 3 significant digits (E format) per file, so the sum of the 10 orbital
    # files matches pdos_tot to ~1 % (here e.g. 12.36 summed vs 12.3 printed).
    np.testing.assert_allclose(
        by_domain.sum(axis=0), pdos.get_array("total_pdos"), rtol=1e-2, atol=1e-2
    )
    np.testing.assert_allclose(by_domain.sum(axis=0), by_element.sum(axis=0), atol=1e-9)
    np.testing.assert_allclose(
        by_domain.sum(axis=0), pdos.get_array("pdos_by_layer").sum(axis=0), atol=1e-9
    )
    assert pdos.base.attributes.get("energy_zero") == "VBM of ZnS"
    for plot in (
        node.outputs.pdos_plot,
        node.outputs.edge_profile_plot,
        node.outputs.potential_plot,
    ):
        assert plot.get_content(mode="rb")[:8] == b"\x89PNG\r\n\x1a\n"


def check_provenance(node: Any) -> None:
    """The analysis is a calcfunction on the projwfc.x files; no ProjectionData stored."""
    from aiida.common.links import LinkType

    creator = node.outputs.band_alignment.creator
    inputs = {link.link_label for link in creator.base.links.get_incoming().all()}
    assert {"retrieved", "structure", "site_labels", "settings"} <= inputs
    assert creator.inputs.retrieved.uuid == node.outputs.projections_folder.uuid
    called = {
        link.link_label
        for link_type in (LinkType.CALL_WORK, LinkType.CALL_CALC)
        for link in node.base.links.get_outgoing(link_type=link_type).all()
    } - {"CALL"}
    assert called == {"scf", "nscf", "projwfc", "pp_potential"}
    assert node.outputs.band_alignment.creator.process_label == "band_alignment"
    retrieved = set(node.outputs.projections_folder.base.repository.list_object_names())
    assert {"atomic_proj.xml", "aiida.pdos_tot"} <= retrieved
    projwfc = node.outputs.projections_folder.creator
    assert set(projwfc.outputs) == {"output_parameters", "remote_folder", "retrieved"}
    assert "aiida.fileout" in node.outputs.potential_folder.base.repository.list_object_names()


def check_metallic_result_is_undetermined(node: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No gap in the projections → "undetermined" with the reason, and no offsets at all.

    The recorded system has a gap, so the midgap search is made to find none; the real
    metallic test of :func:`heterostructures.electronic.projected_dos.midgap_reference` is upstream.
    """
    from pathlib import Path

    from heterostructures.electronic import alignment_analysis
    from heterostructures.electronic.projected_dos import ElectronicStructureError
    from workflows.calcfunctions.electronic import SiteLabels

    def no_gap(_: object) -> float:
        raise ElectronicStructureError("metallic: highest occupied 7.1 eV ≥ lowest empty 7.0 eV")

    monkeypatch.setattr(alignment_analysis, "midgap_reference", no_gap)
    labels = SiteLabels.from_nodes(node.inputs.structure, node.inputs.site_labels)
    with node.outputs.projections_folder.base.repository.as_path() as folder:
        analysis = alignment_analysis.analyse_alignment(
            Path(folder), labels, node.inputs.analysis.get_dict()
        )
    assert analysis.summary["alignment_type"] == "undetermined"
    assert analysis.summary["reason"].startswith("metallic")
    assert "routes" not in analysis.summary
    assert analysis.layer_edges == ()
