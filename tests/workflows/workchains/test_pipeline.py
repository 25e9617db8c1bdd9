"""``janus.pipeline``: builder per protocol, skip/restart inputs, mock end-to-end runs.

Mock runs replay recordings of real QE runs (tests/fixtures/mock/); re-record with
``scripts/record_fixtures.sh 'tests/workflows/workchains/test_pipeline.py'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.workflows.workchains.test_alignment import TINY_SERIES
from tests.workflows.workchains.test_interface import SERIAL, TINY_BULK, TINY_INTERFACE
from tests.workflows.workchains.test_na_snapshots import _snapshots_builder, _trajectory

if TYPE_CHECKING:
    from aiida.orm import InstalledCode

MIN_NA_FRAMES = 8  # janus.na_analysis needs ≥ 8 snapshots (exit 202 otherwise)
CUTOFFS = {"pw": {"parameters": {"SYSTEM": {"ecutwfc": 20.0, "ecutrho": 80.0}}}}
TINY_STEPS: dict[str, Any] = {
    "perovskite_bulk": {
        "pseudo_flavour": "nc",
        "relax": {"base_relax": TINY_BULK, "meta_convergence": False},
    },
    "chalcogenide_bulk": {
        "pseudo_flavour": "nc",
        "relax": {"base_relax": TINY_BULK, "meta_convergence": False},
    },
    "interface": TINY_INTERFACE,
    "electronic": {
        "pseudo_flavour": "nc",
        "dual": 4.0,
        "scf": {"kpoints_distance": 1.5, **CUTOFFS},
        "nscf": {"kpoints_distance": 1.2, **CUTOFFS},
    },
    "alignment": TINY_SERIES,
    "aimd": {"equilibration_time_fs": 2.0, "production_time_fs": 2.0, "md": CUTOFFS},
}


def _serial(builder: Any) -> Any:
    """Mock codes run without MPI: every CalcJob of the study gets serial options."""
    for side in ("perovskite_bulk", "chalcogenide_bulk"):
        builder[side].relax.base_relax.pw.metadata.options = SERIAL
    builder.interface.relax.pw.metadata.options = SERIAL
    for step in ("scf", "nscf"):
        builder.electronic[step].pw.metadata.options = SERIAL
    builder.electronic.projwfc.metadata.options = SERIAL
    builder.electronic.pp_potential.metadata.options = SERIAL
    builder.alignment.model.relax.pw.metadata.options = SERIAL
    for step in ("scf", "nscf"):
        builder.alignment.electronic[step].pw.metadata.options = SERIAL
    builder.alignment.electronic.projwfc.metadata.options = SERIAL
    builder.alignment.electronic.pp_potential.metadata.options = SERIAL
    builder.charge_densities.pp.metadata.options = SERIAL
    builder.aimd.md.pw.metadata.options = SERIAL
    builder.na_snapshots.scf.pw.metadata.options = SERIAL
    return builder


@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_pipeline_builder_fills_every_step(
    protocol: str, study_codes: dict[str, InstalledCode], data_regression: Any
) -> None:
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(study_codes, protocol=protocol)
    data_regression.check(
        {
            "steps": sorted(key for key in builder if key not in ("metadata",)),
            "interface": builder.interface.interface.get_dict(),
            "md_family_cutoff": builder.aimd.md.pw.parameters["SYSTEM"]["ecutwfc"],
            "md_settings": builder.aimd.md.pw.settings.get_dict()
            if "settings" in builder.aimd.md.pw
            else None,
            "na_window": list(builder.na_snapshots.band_window),
            "bulk_ecutwfc": builder.chalcogenide_bulk.relax.base_relax.pw.parameters["SYSTEM"][
                "ecutwfc"
            ],
            "interface_ecutwfc": builder.interface.relax.pw.parameters["SYSTEM"]["ecutwfc"],
        }
    )


def test_pipeline_bad_input(study_codes: dict[str, InstalledCode]) -> None:
    from aiida.orm import List

    from workflows.protocols import UnknownProtocolError
    from workflows.workchains.pipeline import PipelineWorkChain, validate_pipeline, validate_skip

    with pytest.raises(UnknownProtocolError, match="choose one of"):
        PipelineWorkChain.get_builder_from_protocol(study_codes, protocol="huge")
    with pytest.raises(ValueError, match="not configured"):
        PipelineWorkChain.get_builder_from_protocol({"pw": study_codes["pw"]})
    with pytest.raises(ValueError, match="Zz"):
        PipelineWorkChain.get_builder_from_protocol(study_codes, chalcogenide="ZzS")
    message = validate_skip(List(["relaxation"]), None)
    assert message is not None
    assert "choose from" in message
    message = validate_pipeline({"skip": List(["interface"])}, None)
    assert message is not None
    assert "needs `structure`" in message


@pytest.mark.parametrize("protocol", ["balanced", "stringent"])
def test_bulk_and_interface_share_cutoff(
    protocol: str, study_codes: dict[str, InstalledCode]
) -> None:
    """Formation energies compare totals: bulk and interface must use one ecutwfc."""
    from workflows.calcfunctions.summary import energies_incomparable
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(study_codes, protocol=protocol)
    interface = builder.interface.relax.pw
    for side in ("perovskite_bulk", "chalcogenide_bulk"):
        bulk = builder[side].relax.base_relax.pw
        assert bulk.parameters["SYSTEM"]["ecutwfc"] == interface.parameters["SYSTEM"]["ecutwfc"]
        assert energies_incomparable(bulk, interface) is None


def test_fast_pipeline_says_why_it_has_no_formation_energy(
    study_codes: dict[str, InstalledCode],
) -> None:
    """The fast protocol relaxes the interface with NC files: totals are not comparable."""
    from workflows.calcfunctions.summary import energies_incomparable
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(study_codes, protocol="fast")
    reason = energies_incomparable(
        builder.chalcogenide_bulk.relax.base_relax.pw, builder.interface.relax.pw
    )
    assert reason is not None
    assert "ecutwfc" in reason
    assert "different pseudopotentials for ['Cd', 'S']" in reason


def test_pipeline_from_trajectory_runs_only_na_steps(
    study_codes: dict[str, InstalledCode], tmp_path: Path
) -> None:
    """Restart with a given structure and trajectory: only the NA steps run (mock pw.x)."""
    from aiida.engine import run_get_node
    from aiida.orm import Dict, List, Str

    from workflows.workchains.na_snapshots import NaAnalysisWorkChain
    from workflows.workchains.pipeline import PipelineWorkChain

    trajectory = _trajectory(n_frames=MIN_NA_FRAMES)
    builder = PipelineWorkChain.get_builder()
    builder.perovskite, builder.chalcogenide = Str("CsPbBr3"), Str("CdS")
    builder.structure = trajectory.get_step_structure(0)
    builder.site_labels = Dict(
        {"domain": ["perovskite", "chalcogenide"], "layer": [0, 0], "fixed": [False] * 2}
    )
    builder.trajectory = trajectory
    builder.skip = List(["electronic", "charge_densities"])
    snapshots = _snapshots_builder(study_codes["pw"], trajectory=trajectory)
    snapshots.pop("trajectory")
    builder.na_snapshots = snapshots
    builder.na_analysis = NaAnalysisWorkChain.get_builder_from_protocol(protocol="fast")
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    called = {link.link_label for link in node.base.links.get_outgoing().all()}
    assert {"na_snapshots", "na_analysis"} <= called
    assert not called & {"interface", "aimd", "electronic", "perovskite_bulk"}
    analysis_node = node.base.links.get_outgoing(link_label_filter="na_analysis").one().node
    # No electronic step: IS = CBM + 1, FS = CBM of the snapshots (18 electrons: CBM = 10).
    assert analysis_node.inputs.initial_band.value == 11
    assert analysis_node.inputs.final_band.value == 10
    summary = results["summary"].get_dict()
    assert {"spectral_summary", "dynamics_summary"} <= set(summary["steps"])
    assert "PBE" in summary["level_of_theory"]
    _check_na_report_figures(node, tmp_path)


def _check_na_report_figures(node: Any, tmp_path: Path) -> None:
    """The report draws |NAC|(t) from the stored NA Hamiltonian (one line per band pair of
    the window, values ħ|d_ij| of its ``nac_per_fs``) and the gap ACF from the stored
    dephasing ACF and function D(t), each as a 300 dpi PNG and an SVG with a caption; the
    header names the NC family the snapshot SCFs used."""
    import numpy as np
    from matplotlib.image import imread

    from heterostructures.plots.na_time import pair_couplings
    from workflows.provenance.report import write_report

    written = write_report(node, tmp_path / "report")
    heights_in = {"nac_plot": 3.5, "gap_acf_plot": 3.2, "dephasing_plot": 3.5}
    for stem, height_in in heights_in.items():
        assert written[stem].suffix == ".png"
        assert written[f"{stem}_vector"].read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
        assert imread(written[stem]).shape[0] == 300 * height_in
    hamiltonian = node.outputs.na_hamiltonian
    first, last = hamiltonian.base.attributes.get("band_window")
    pairs = pair_couplings(
        hamiltonian.get_array("times_fs"),
        hamiltonian.get_array("nac_per_fs"),
        list(range(first, last + 1)),
    )
    assert len(pairs) == (last - first + 1) * (last - first) // 2
    assert np.all(np.isfinite(pairs[0].magnitude_mev))
    table = written["summary"].read_text()
    assert "[`nac_plot.png`](nac_plot.png): Non-adiabatic couplings ħ|d_ij| (meV)" in table
    assert "[`gap_acf_plot.png`](gap_acf_plot.png): Normalised autocorrelation" in table
    assert "[`dephasing_plot.png`](dephasing_plot.png): Pure-dephasing function D(t)" in table
    assert "- pseudopotential families: `janus/pslibrary-1.0.0/PBE/NC` (NC: " in table
    assert "not drawn" not in table


@pytest.mark.real_qe
def test_tiny_pipeline_end_to_end_on_mocks(
    study_codes: dict[str, InstalledCode], tmp_path: Path
) -> None:
    """bulk → interface → electronic → IS/FS → AIMD on a 13-atom superlattice (replayed)."""
    from aiida.engine import run_get_node
    from aiida.orm import List

    from workflows.workchains.pipeline import PipelineWorkChain

    builder = _serial(
        PipelineWorkChain.get_builder_from_protocol(
            study_codes, protocol="fast", overrides=TINY_STEPS
        )
    )
    builder.skip = List(["na"])
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    summary = results["summary"].get_dict()
    assert set(summary["steps"]) >= {"build_report", "band_alignment", "charge_transfer_states"}
    lattices = {side: summary[f"{side}_lattice"]["a"] for side in ("perovskite", "chalcogenide")}
    cell = results["structure"].cell
    assert abs(sum(cell[0]) - 0.5 * sum(lattices.values())) < 0.1, "built from computed lattices"
    states = summary["charge_transfer_states"]
    assert (
        states["initial"]["domain_weights"]["perovskite"]
        > states["initial"]["domain_weights"]["chalcogenide"]
    )
    assert results["trajectory"].numsteps >= 4
    from aiida.orm import WorkflowNode

    from workflows.provenance.report import write_report

    assert isinstance(node, WorkflowNode)
    written = write_report(node, tmp_path / "report")
    assert {"pdos_plot", "edge_profile_plot", "potential_plot", "density_plot", "md_plot"} <= set(
        written
    )
    assert all(path.stat().st_size > 1000 for path in written.values() if path.suffix == ".png")
    again = write_report(node, tmp_path / "report")
    assert again == written, "a second report overwrites the first, never writes name_<pk>.png"
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(
        p.name for p in written.values()
    )
    table = written["summary"].read_text()
    assert "| alignment type |" in table
    # Route 2 ran on the interface's strained bulk units (janus.interface strained_bulk).
    lineup = summary["band_alignment"]["routes"]["potential_lineup"]
    assert set(lineup["bulk_references"]) == {"perovskite", "chalcogenide"}
    assert "| ΔE_C / ΔE_V (potential_lineup) |" in table
    assert "| strained bulk gaps |" in table
    assert "| NA dynamics | not run |" in table
    series = summary["alignment_series"]
    assert {row["model"] for row in series["rows"]} == {"3+2", "5+4"}
    assert "| type verdict |" in table
    assert "| IS/FS and NA model | 3+2 planes, 13 atoms |" in table
    assert {"offsets_vs_thickness", "band_alignment_diagram_vector"} <= set(written)
    _check_study_report_figures(written, table)


def _check_study_report_figures(written: dict[str, Path], table: str) -> None:
    """Structure, SCF and BFGS convergence drawn from the stored outputs (PNG + SVG with a
    caption each); the provenance graph rendered when graphviz's ``dot`` is on PATH, else
    its DOT source written and the caption saying so."""
    import shutil

    for stem in ("structure_plot", "scf_convergence_plot", "relaxation_plot"):
        assert written[stem].stat().st_size > 1000
        assert written[f"{stem}_vector"].suffix == ".svg"
        assert f"[`{stem}.png`]({stem}.png)" in table
    if shutil.which("dot"):
        assert written["provenance_graph"].read_bytes().startswith(b"\x89PNG")
        assert "[`provenance_graph.png`](provenance_graph.png): Provenance" in table
    else:
        source = written["provenance_graph_source"].read_text()
        assert source.startswith("digraph")
        assert "interface" in source
        assert "`dot` was not found" in table
    assert "not drawn" not in table


def test_protocol_sets_per_step_resources_and_ranks_override_them(
    study_codes: dict[str, InstalledCode],
) -> None:
    """balanced: 32 ranks and 24 h for the interface relax; `--ranks 4` keeps the walltime."""
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(study_codes, protocol="balanced")
    relax = builder.interface.relax.pw.metadata.options
    assert relax.resources == {"num_machines": 1, "num_mpiprocs_per_machine": 32}
    assert relax.max_wallclock_seconds == 86400
    assert builder.na_snapshots.scf.pw.metadata.options.max_wallclock_seconds == 14400
    assert builder.charge_densities.pp.metadata.options.resources["num_mpiprocs_per_machine"] == 8
    ranks = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 4}}
    overridden = PipelineWorkChain.get_builder_from_protocol(
        study_codes, protocol="balanced", options=ranks
    )
    relax = overridden.interface.relax.pw.metadata.options
    assert relax.resources["num_mpiprocs_per_machine"] == 4
    assert relax.max_wallclock_seconds == 86400
