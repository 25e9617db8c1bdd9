"""The projwfc.x readers on outputs recorded with real QE 6.7 (tests/fixtures/qe67_*)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from heterostructures.io.projwfc_files import (
    ProjwfcFileError,
    read_atomic_projections,
    read_atomic_states,
    read_projected_dos,
    read_pw_levels,
)

FIXTURES = Path(__file__).parents[2] / "fixtures"
BULK = FIXTURES / "qe67_projwfc_cds_bulk"
SUPERLATTICE = FIXTURES / "qe67_projwfc_cds_zns_001"


def test_bulk_pdos_files_are_read_per_atom_and_orbital() -> None:
    pdos = read_projected_dos(BULK)
    assert pdos.n_atoms == 2
    assert pdos.orbital_elements == ("Cd", "Cd", "Cd", "S", "S")
    assert pdos.orbital_labels == ("p", "d", "s", "s", "p")
    assert pdos.energies_ev[0] == pytest.approx(-6.356)
    assert np.diff(pdos.energies_ev) == pytest.approx(0.02, abs=1e-9)
    # The per-orbital files sum to the pdos column of pdos_tot (3 printed digits).
    assert pdos.orbital_dos.sum(axis=0) == pytest.approx(
        pdos.total_pdos, abs=2e-3 * pdos.total_pdos.max()
    )


def test_total_dos_integrates_to_the_electrons_below_the_fermi_level() -> None:
    pdos = read_projected_dos(BULK)
    fermi = read_pw_levels(BULK / "data-file-schema.xml").fermi_energy_ev
    assert fermi == pytest.approx(6.9479, abs=1e-4)
    below = pdos.energies_ev < fermi
    electrons = np.trapezoid(pdos.total_dos[below], pdos.energies_ev[below])
    assert electrons == pytest.approx(18.0, abs=0.2)  # Cd 4d10 5s2 + S 3s2 3p4


def test_atomic_projections_match_stdout_states_and_pw_eigenvalues() -> None:
    projections = read_atomic_projections(BULK / "atomic_proj.xml")
    states = read_atomic_states(BULK / "projwfc.out")
    levels = read_pw_levels(BULK / "data-file-schema.xml")
    assert projections.weights.shape == (16, 16, len(states)) == (16, 16, 13)
    assert projections.k_weights.sum() == pytest.approx(2.0)
    assert projections.n_electrons == 18.0
    assert projections.eigenvalues_ev == pytest.approx(levels.eigenvalues_ev, abs=1e-6)
    # Valence states are well described by the atomic basis: Σ|<φ|ψ>|² ≈ 1.
    assert projections.weights[:, :9].sum(axis=2) == pytest.approx(1.0, abs=0.01)
    # The S 3s band (lowest) lives on S: states 10 (S s) dominates, as projwfc.out prints.
    assert (states[9].element, states[9].angular_momentum) == ("S", 0)
    assert projections.weights[0, 0, 9] == pytest.approx(0.686, abs=1e-3)


def test_superlattice_levels_and_state_list() -> None:
    states = read_atomic_states(SUPERLATTICE / "projwfc.out")
    assert [state.atom for state in states].count(3) == 9  # Zn: 4p, 3d, 4s
    levels = read_pw_levels(SUPERLATTICE / "data-file-schema.xml")
    assert levels.highest_occupied_ev == pytest.approx(6.467, abs=1e-3)
    assert levels.lowest_unoccupied_ev == pytest.approx(7.756, abs=1e-3)


def test_missing_files_give_clear_messages(tmp_path: Path) -> None:
    with pytest.raises(ProjwfcFileError, match=r"run projwfc\.x"):
        read_projected_dos(tmp_path)
    with pytest.raises(ProjwfcFileError, match=r"atomic_proj.xml not found"):
        read_atomic_projections(tmp_path / "atomic_proj.xml")
    for path in BULK.glob("cds.pdos_atm*"):
        shutil.copy(path, tmp_path)
    with pytest.raises(ProjwfcFileError, match=r"cds.pdos_tot not found"):
        read_projected_dos(tmp_path)


def test_unsupported_layouts_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.pdos_atm#1(Fe)_wfc#1(s_j0.5)").write_text("# E (eV) ldos(E)\n 0.0 1.0\n")
    with pytest.raises(ProjwfcFileError, match="spin–orbit"):
        read_projected_dos(tmp_path)
    kresolved = tmp_path / "k" / "y.pdos_atm#1(C)_wfc#1(s)"
    kresolved.parent.mkdir()
    kresolved.write_text("# ik    E (eV)   ldos(E)   pdos(E)\n 1 -8.8 0.1 0.1\n")
    with pytest.raises(ProjwfcFileError, match="kresolveddos"):
        read_projected_dos(kresolved.parent)


def test_truncated_atomic_proj_is_reported(tmp_path: Path) -> None:
    with gzip.open(BULK / "atomic_proj.xml.gz", "rt") as handle:
        text = handle.read()
    cut = (
        text[: text.index("<K-POINT", text.index("<K-POINT") + 1)] + "</EIGENSTATES></PROJECTIONS>"
    )
    (tmp_path / "atomic_proj.xml").write_text(cut)
    with pytest.raises(ProjwfcFileError, match="truncated"):
        read_atomic_projections(tmp_path / "atomic_proj.xml")
