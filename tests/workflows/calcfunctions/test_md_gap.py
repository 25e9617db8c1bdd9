"""The gap spectral analysis from the MD's own energies vs from snapshot SCFs on the same frames.

Independent reference: the 24 separate pw.x SCFs of tests/fixtures/qe67_md_cds_gap_series
(one from scratch at each MD step's geometry, the MD's inputs), put through the snapshot
path's calcfunction ``gap_spectral_analysis`` as an NA-Hamiltonian-like node; the MD path
(``band_energies`` of ``janus.aimd`` → ``md_gap_spectral_analysis``) must give the same gap,
spectral density and dephasing function.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURE = Path(__file__).parents[2] / "fixtures" / "qe67_md_cds_gap_series"
N_STEPS = 24
SETTINGS = {
    "required_resolution_cm": 33.0,
    "prominence_fraction": 0.05,
    "max_frequency_cm": 600.0,
    "n_bootstrap": 20,
}
IS_BAND, FS_BAND = (
    14,
    10,
)  # pw.x numbering (window 10..14): its dephasing time is determined by 24 fs


def _snapshot_hamiltonian() -> Any:
    """Bands 10..14 of the separate SCFs as the snapshot path's energies_ev (eV)."""
    from aiida.orm import ArrayData

    energies = []
    for step in range(N_STEPS):
        text = (FIXTURE / f"scf_{step:03d}.out").read_text()
        body = text.split("bands (ev):")[-1].split("occupation numbers")[0]
        values = [float(x) for x in re.findall(r"-?\d+\.\d{4}", body)]
        energies.append(values[FS_BAND - 1 : IS_BAND])
    node = ArrayData()
    node.set_array("energies_ev", np.array(energies))
    node.set_array("nac_per_fs", np.zeros((N_STEPS - 1, 2, 2)))
    node.base.attributes.set("dt_fs", 1.0)
    return node


@pytest.mark.usefixtures("aiida_profile")
def test_md_gap_analysis_equals_the_snapshot_scf_analysis() -> None:
    from aiida.orm import Dict

    from workflows.calcfunctions.md_gap import md_gap_spectral_analysis
    from workflows.calcfunctions.md_outputs import band_energies_node
    from workflows.calcfunctions.na import gap_spectral_analysis

    band_energies = band_energies_node([(FIXTURE / "md.out").read_text()], 1.0)
    assert band_energies is not None
    bands = {"initial_band": IS_BAND, "final_band": FS_BAND, "production_start_fs": 0.0}
    from_md = md_gap_spectral_analysis(band_energies, Dict(bands), Dict(SETTINGS))
    from_scf = gap_spectral_analysis(
        _snapshot_hamiltonian(), Dict({"initial": IS_BAND - FS_BAND, "final": 0}), Dict(SETTINGS)
    )
    np.testing.assert_allclose(
        from_md["gap"].get_array("gap_ev"), from_scf["gap"].get_array("gap_ev"), atol=2e-4
    )
    md_density = from_md["spectral_density"].get_array("intensity")
    scf_density = from_scf["spectral_density"].get_array("intensity")
    np.testing.assert_allclose(md_density, scf_density, atol=0.02 * scf_density.max())
    np.testing.assert_allclose(
        from_md["dephasing"].get_array("dephasing"),
        from_scf["dephasing"].get_array("dephasing"),
        atol=1e-3,
    )
    summary = from_md["spectral_summary"].get_dict()
    assert summary["mean_gap_ev"] == pytest.approx(
        from_scf["spectral_summary"].get_dict()["mean_gap_ev"], abs=2e-4
    )
    assert "no state tracking" in summary["gap_source"]
    assert summary["smallest_gap_ev"] > 0.05


@pytest.mark.usefixtures("aiida_profile")
def test_nve_window_starts_at_the_production_time() -> None:
    from aiida.orm import Dict

    from workflows.calcfunctions.md_gap import md_gap_spectral_analysis
    from workflows.calcfunctions.md_outputs import band_energies_node

    band_energies = band_energies_node([(FIXTURE / "md.out").read_text()], 1.0)
    assert band_energies is not None
    bands = {"initial_band": IS_BAND, "final_band": FS_BAND, "production_start_fs": 8.0}
    outputs = md_gap_spectral_analysis(band_energies, Dict(bands), Dict(SETTINGS))
    assert len(outputs["gap"].get_array("gap_ev")) == N_STEPS - 8
