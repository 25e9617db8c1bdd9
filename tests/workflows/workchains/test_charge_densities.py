"""``janus.charge_densities`` on replayed real QE runs of the CdS/ZnS (001) superlattice.

The parent is the ``janus.electronic`` run of ``test_electronic`` (same recordings);
pp.x |ψ|² runs of the selected IS (on ZnS) and FS (on CdS) at Γ are recorded too.

The recordings run at 30/120 Ry, below the NC Zn floor (50 Ry,
``profiles/pseudos/nc-cutoff-floors.yaml``): they test the mechanics (parsers, identities,
selection), and no ZnS level of theirs is a converged number.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.workflows.workchains.test_electronic import MOCK_OPTIONS, run_tiny_electronic

if TYPE_CHECKING:
    from aiida.orm import InstalledCode


def densities_builder(codes: dict[str, InstalledCode], electronic: Any, **selection: Any) -> Any:
    """IS on ZnS, FS on CdS, electrons at Γ (k 1), from the electronic run's outputs."""
    from workflows.workchains.charge_densities import ChargeDensitiesWorkChain

    return ChargeDensitiesWorkChain.get_builder_from_protocol(
        codes["pp.x"],
        electronic.inputs.structure,
        electronic.inputs.site_labels,
        electronic.outputs.nscf_remote_folder,
        projections=electronic.outputs.projections_folder,
        donor="ZnS",
        acceptor="CdS",
        protocol="fast",
        overrides={"selection": {"k_index": 1, **selection}},
        options=MOCK_OPTIONS,
    )


def test_pp_parameters_select_exactly_one_state() -> None:
    from workflows.inputs.transfer_states import state_parameters

    assert state_parameters(1, 19) == {
        "INPUTPP": {"plot_num": 7, "kpoint": [1], "kband": [19], "lsign": False},
        "PLOT": {"iflag": 3},
    }


def test_transfer_densities_end_to_end(mock_codes: dict[str, InstalledCode]) -> None:
    from aiida.cmdline.utils.common import get_workchain_report
    from aiida.engine import run_get_node
    from aiida.orm import WorkChainNode

    electronic = run_tiny_electronic(mock_codes)
    _, node = run_get_node(densities_builder(mock_codes, electronic))
    assert isinstance(node, WorkChainNode)
    assert node.is_finished_ok, get_workchain_report(node, "REPORT")
    summary = node.outputs.summary.get_dict()
    initial, final = summary["initial"], summary["final"]
    assert initial["domain_weights"]["ZnS"] >= 0.5
    assert final["domain_weights"]["CdS"] >= 0.5
    assert initial["k_index"] == final["k_index"] == 1
    assert summary["energy_gap_ev"] == pytest.approx(initial["energy_ev"] - final["energy_ev"])
    spatial = summary["spatial"]
    for role in ("initial", "final"):
        assert spatial[role]["norm"] == pytest.approx(1.0, abs=2e-3)
        assert sum(spatial[role]["domain_fractions"].values()) == pytest.approx(1.0)
        assert sum(summary[role]["element_weights"].values()) == pytest.approx(1.0)
    # The one-period superlattice is too thin for the spatial partition (planes midway
    # between layers) to separate the states (recorded: ZnS 0.57 for both, while the
    # projections give IS 0.59 on ZnS, FS 0.63 on CdS); thick domains are needed for that.
    assert 0.0 < spatial["spatial_overlap"] < 1.0
    check_element_shares(node, summary)
    assert node.outputs.density_plot.get_content(mode="rb")[:4] == b"\x89PNG"
    # Provenance: the states were chosen on the electronic run's projections, and each
    # pp.x links (does not copy) the NSCF folder and keeps its cube in `retrieved`.
    assert node.outputs.summary.creator.inputs.initial.creator.process_label == "CubePpCalculation"
    chosen = next(c for c in node.called if c.process_label == "transfer_states")
    assert chosen.inputs.projections.uuid == electronic.outputs.projections_folder.uuid
    for role in ("initial", "final"):
        calc = node.outputs.summary.creator.inputs[role].creator
        assert calc.inputs.parameters["INPUTPP"]["kband"] == [summary[role]["band"]]
        assert calc.inputs.parent_folder.uuid == electronic.outputs.nscf_remote_folder.uuid
        assert os.path.islink(Path(calc.outputs.remote_folder.get_remote_path()) / "out")
        assert "aiida.fileout" in calc.outputs.retrieved.base.repository.list_object_names()
        assert "output_data" not in calc.outputs
    check_bad_states_are_refused(mock_codes, electronic)


def check_element_shares(node: Any, summary: dict[str, Any]) -> None:
    """Each state carries element shares by projections, Bader and Voronoi (each sums to 1);
    the real-space ones are those of the retrieved pp.x cube, and the report ranks them.

    Reference for the overlap: the normalised ∫|ψ_IS||ψ_FS| is symmetric and ≤ 1 by
    Cauchy–Schwarz, and equals the same integral of the two retrieved cubes scaled freely.
    """
    from aiida.cmdline.utils.common import get_workchain_report

    from heterostructures.electronic.densities import spatial_overlap
    from heterostructures.electronic.real_space_partition import real_space_shares
    from heterostructures.io.cube import read_cube
    from workflows.calcfunctions.electronic import CUBE_FILE

    grids = {}
    for role in ("initial", "final"):
        shares = summary[role]["element_shares"]
        assert set(shares) == {"projection", "bader", "voronoi"}
        assert shares["projection"] == summary[role]["element_weights"]
        for by_element in shares.values():
            assert set(by_element) == {"Cd", "Zn", "S"}
            assert sum(by_element.values()) == pytest.approx(1.0)
        retrieved = node.outputs.summary.creator.inputs[role]
        with retrieved.base.repository.as_path() as folder:
            grids[role] = read_cube(Path(folder) / CUBE_FILE)
        # Symbols from the cube's atomic numbers: the labels' elements must be the same.
        assert shares["bader"] == pytest.approx(
            real_space_shares(grids[role], "bader").element_shares
        )
    assert summary["spatial"]["spatial_overlap"] == pytest.approx(
        spatial_overlap(grids["final"], grids["initial"])
    )
    assert set(summary["spatial"]["element_partitions"]) == {"bader", "voronoi"}
    report = get_workchain_report(node, "REPORT")
    assert "initial state element shares — bader:" in report
    assert "final state element shares — bader:" in report


def test_element_shares_without_projections_come_from_real_space_only() -> None:
    """Explicit states (no projwfc.x run) have no projection weights: only Bader/Voronoi."""
    from workflows.calcfunctions.charge_densities import combine_summary, describe_element_shares

    spatial = {
        role: {"element_shares": {"bader": {"Pb": 0.7, "Br": 0.3}, "voronoi": {"Pb": 0.4}}}
        for role in ("initial", "final")
    }
    states = {"initial": {"k_index": 1, "band": 51}, "final": {"k_index": 1, "band": 50}}
    summary = combine_summary(states, spatial)
    assert set(summary["initial"]["element_shares"]) == {"bader", "voronoi"}
    assert summary["initial"]["band"] == 51
    chosen = {role: {**states[role], "element_weights": {"Cs": 0.6, "Pb": 0.4}} for role in states}
    line = describe_element_shares(combine_summary(chosen, spatial)).splitlines()[0]
    assert line == (
        "initial state element shares — bader: Pb 0.70, Br 0.30; voronoi: Pb 0.40; "
        "projection: Cs 0.60, Pb 0.40"
    )


def check_bad_states_are_refused(codes: dict[str, InstalledCode], electronic: Any) -> None:
    """No state above threshold, band out of range, one domain: clear errors, nothing stored.

    Called from the end-to-end test to replay the electronic parent only once.
    """
    from aiida.engine import run, run_get_node
    from aiida.orm import Dict

    mock_codes = codes
    _, node = run_get_node(densities_builder(mock_codes, electronic, threshold=0.95))
    assert node.exit_status == 202
    assert "weight ≥ 0.95 on 'ZnS'" in str(node.exit_message)
    assert not node.called
    assert not list(node.outputs)
    builder = densities_builder(mock_codes, electronic)
    del builder.projections, builder.selection
    builder.states = Dict(
        {"initial": {"k_index": 1, "band": 99}, "final": {"k_index": 1, "band": 20}}
    )
    with pytest.raises(ValueError, match=r"initial state \(k 1, band 99\) out of range"):
        run(builder)
    builder = densities_builder(mock_codes, electronic)
    builder.site_labels = Dict({"domain": ["CdS"] * 4, "layer": [1] * 4, "fixed": [False] * 4})
    with pytest.raises(ValueError, match="IS/FS need an interface with two labelled domains"):
        run(builder)


def test_gamma_k_index_resolves_to_the_gamma_point() -> None:
    """The pipeline asks for Γ states (its NA snapshots are Γ-only), wherever Γ is listed."""
    import numpy as np

    from heterostructures.electronic.projected_dos import ElectronicStructureError
    from workflows.calcfunctions.charge_densities import resolve_k_index

    mesh = np.array([[0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.5, 0.0]])
    assert resolve_k_index("gamma", mesh) == 2
    assert resolve_k_index(3, mesh) == 3
    assert resolve_k_index(None, mesh) is None
    with pytest.raises(ElectronicStructureError, match="do not include Γ"):
        resolve_k_index("gamma", mesh[[0, 2]])
