"""Reader of QE wfcN.dat / data-file-schema.xml, checked on real pw.x 6.7 output (CdS)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from heterostructures.dynamics.nac import overlap_matrix
from heterostructures.io import wavefunctions
from heterostructures.io.wavefunctions import (
    BandWindowError,
    WavefunctionFileError,
    band_structure_of_run,
    read_band_structure,
    read_wavefunction,
    wavefunction_file,
)

REPOSITORY = Path(__file__).resolve().parents[3]
FIXTURES = REPOSITORY / "tests" / "fixtures"
GAMMA_RUN = FIXTURES / "qe67_wfc_cds_nc_gamma" / "snapshot_0"
TWO_K_RUN = FIXTURES / "qe67_wfc_cds_nc_2k" / "snapshot_0"
PREFIX = "cds"
ECUTWFC_RY = 25.0
LSDA_RUN = FIXTURES / "qe67_wfc_cds_nc_lsda_gamma" / "snapshot_0"


def plane_wave_overlap(
    coefficients: np.ndarray, miller: np.ndarray, gamma_only: bool
) -> np.ndarray:
    """Reference ⟨i|j⟩ written out directly (independent of heterostructures.dynamics.nac)."""
    overlap = coefficients.conj() @ coefficients.T
    if not gamma_only:
        return overlap
    zero = np.flatnonzero((miller == 0).all(axis=1))[0]
    return 2 * overlap.real - np.outer(coefficients[:, zero].conj(), coefficients[:, zero]).real


def pw_out_band_energies(pw_out: Path) -> np.ndarray:
    """Band energies (eV) as printed by pw.x, one row per k-point."""
    blocks = re.findall(r"bands \(ev\):\s*\n\n(.*?)\n\n", pw_out.read_text(), flags=re.DOTALL)
    return np.array([np.array(block.split(), dtype=float) for block in blocks])


def write_wfc_dat(path: Path, miller: np.ndarray, coefficients: np.ndarray, npol: int) -> None:
    """Write a wfcN.dat with the QE >= 6.4 record layout (gfortran sequential records)."""
    igwx = miller.shape[0]
    records = [
        np.array([1], "<i4").tobytes()
        + np.zeros(3, "<f8").tobytes()
        + np.array([1, 0], "<i4").tobytes()
        + np.array([1.0], "<f8").tobytes(),
        np.array([igwx, igwx, npol, coefficients.shape[0]], "<i4").tobytes(),
        np.eye(3).astype("<f8").tobytes(),
        miller.astype("<i4").tobytes(),
        *(row.astype("<c16").tobytes() for row in coefficients),
    ]
    with path.open("wb") as stream:
        for payload in records:
            marker = np.array([len(payload)], "<i4").tobytes()
            stream.write(marker + payload + marker)


def test_gamma_header_and_half_sphere_basis() -> None:
    wavefunction = read_wavefunction(wavefunction_file(GAMMA_RUN, PREFIX))
    assert wavefunction.gamma_only
    assert (wavefunction.npol, wavefunction.n_bands, wavefunction.n_plane_waves) == (1, 12, 363)
    np.testing.assert_allclose(wavefunction.k_cartesian_per_bohr, 0.0)
    keys = {tuple(g) for g in wavefunction.miller_indices}
    assert (0, 0, 0) in keys
    assert all(tuple(-np.array(g)) not in keys for g in keys if any(g))  # only one of ±G


def test_full_sphere_at_gamma_has_both_halves() -> None:
    """The 2-k run stores ψ at Γ on the full sphere: 2·363 − 1 plane waves, closed under −G."""
    wavefunction = read_wavefunction(wavefunction_file(TWO_K_RUN, PREFIX, k_index=1))
    assert not wavefunction.gamma_only
    assert wavefunction.n_plane_waves == 2 * 363 - 1
    keys = {tuple(g) for g in wavefunction.miller_indices}
    assert keys == {tuple(-np.array(g)) for g in keys}


@pytest.mark.parametrize(("run", "k_index"), [(GAMMA_RUN, 1), (TWO_K_RUN, 1), (TWO_K_RUN, 2)])
def test_plane_waves_lie_inside_the_kinetic_cutoff(run: Path, k_index: int) -> None:
    """|k+G|² ≤ ecutwfc (Ry, bohr⁻²) for every stored plane wave, and the sphere is filled."""
    wavefunction = read_wavefunction(wavefunction_file(run, PREFIX, k_index))
    k_plus_g = (
        wavefunction.k_cartesian_per_bohr
        + wavefunction.miller_indices @ wavefunction.reciprocal_vectors_per_bohr
    )
    kinetic_ry = (k_plus_g**2).sum(axis=1)
    assert kinetic_ry.max() <= ECUTWFC_RY * (1 + 1e-10)
    assert kinetic_ry.max() > 0.9 * ECUTWFC_RY


def test_reciprocal_vectors_agree_with_the_xml() -> None:
    wavefunction = read_wavefunction(wavefunction_file(TWO_K_RUN, PREFIX, 2))
    bands = band_structure_of_run(TWO_K_RUN, PREFIX)
    two_pi_over_alat = 2 * np.pi / bands.alat_bohr
    np.testing.assert_allclose(
        wavefunction.reciprocal_vectors_per_bohr,
        bands.reciprocal_vectors_2pi_over_alat * two_pi_over_alat,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        wavefunction.k_cartesian_per_bohr, bands.k_points_2pi_over_alat[1] * two_pi_over_alat
    )


@pytest.mark.parametrize(("run", "k_index"), [(GAMMA_RUN, 1), (TWO_K_RUN, 1), (TWO_K_RUN, 2)])
def test_norm_conserving_states_are_orthonormal(run: Path, k_index: int) -> None:
    wavefunction = read_wavefunction(wavefunction_file(run, PREFIX, k_index))
    overlap = plane_wave_overlap(
        wavefunction.coefficients, wavefunction.miller_indices, wavefunction.gamma_only
    )
    np.testing.assert_allclose(overlap, np.eye(12), atol=1e-10)


@pytest.mark.parametrize("run", [GAMMA_RUN, TWO_K_RUN])
def test_xml_energies_match_pw_out_in_ev_and_are_ordered(run: Path) -> None:
    """Hartree → eV conversion reproduces pw.x's printed energies (4 decimals)."""
    bands = band_structure_of_run(run, PREFIX)
    np.testing.assert_allclose(bands.energies_ev, pw_out_band_energies(run / "pw.out"), atol=6e-5)
    assert np.all(np.diff(bands.energies_ev, axis=1) >= 0)
    printed_fermi = re.search(r"the Fermi energy is\s+(\S+) ev", (run / "pw.out").read_text())
    assert printed_fermi is not None
    assert bands.fermi_energy_ev == pytest.approx(float(printed_fermi.group(1)), abs=6e-5)
    assert (bands.ecutwfc_ry, bands.ecutrho_ry) == (ECUTWFC_RY, 100.0)


def test_band_window_reads_the_same_rows_as_a_full_read() -> None:
    path = wavefunction_file(TWO_K_RUN, PREFIX, 2)
    window = read_wavefunction(path, band_window=(3, 7))
    assert window.band_window == (3, 7)
    np.testing.assert_array_equal(window.coefficients, read_wavefunction(path).coefficients[2:7])


@pytest.mark.parametrize("window", [(0, 4), (5, 13), (7, 6)])
def test_band_window_outside_computed_bands_is_rejected(window: tuple[int, int]) -> None:
    with pytest.raises(BandWindowError, match=r"1\.\.12.*nbnd"):
        read_wavefunction(wavefunction_file(GAMMA_RUN, PREFIX), band_window=window)


def test_missing_files_say_what_is_there(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"found \['cds.save'\]"):
        wavefunction_file(GAMMA_RUN, "wrong_prefix")
    with pytest.raises(FileNotFoundError, match=r"wfc3\.dat.*present: \['wfc1.dat'\]"):
        wavefunction_file(GAMMA_RUN, PREFIX, k_index=3)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_band_structure(tmp_path / "data-file-schema.xml")


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    source = wavefunction_file(GAMMA_RUN, PREFIX)
    truncated = tmp_path / "wfc1.dat"
    truncated.write_bytes(source.read_bytes()[:-100])
    assert read_wavefunction(truncated, band_window=(1, 11)).n_bands == 11
    with pytest.raises(WavefunctionFileError, match="truncated"):
        read_wavefunction(truncated)


def test_xml_without_output_is_rejected(tmp_path: Path) -> None:
    broken = tmp_path / "data-file-schema.xml"
    broken.write_text("<qes:espresso xmlns:qes='x'><input/></qes:espresso>")
    with pytest.raises(WavefunctionFileError, match=r"did pw\.x finish"):
        read_band_structure(broken)


def test_noncollinear_spinor_records_round_trip(tmp_path: Path) -> None:
    """npol = 2 records hold both spinor components, igwx coefficients each."""
    rng = np.random.default_rng(3)
    miller = np.array([[0, 0, 0], [1, 0, 0], [0, -1, 2]])
    coefficients = rng.normal(size=(4, 6)) + 1j * rng.normal(size=(4, 6))
    path = tmp_path / "wfc1.dat"
    write_wfc_dat(path, miller, coefficients, npol=2)
    wavefunction = read_wavefunction(path, band_window=(2, 3))
    assert (wavefunction.npol, wavefunction.n_plane_waves) == (2, 3)
    np.testing.assert_array_equal(wavefunction.coefficients, coefficients[1:3])
    np.testing.assert_array_equal(wavefunction.miller_indices, miller)


def test_hdf5_without_h5py_asks_for_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wavefunctions, "hdf5_available", lambda: False)
    path = tmp_path / "wfc1.hdf5"
    path.write_bytes(b"")
    with pytest.raises(WavefunctionFileError, match="pip install h5py"):
        read_wavefunction(path)


def test_hdf5_layout_matches_the_dat_reader(tmp_path: Path) -> None:
    """A wfc1.hdf5 in QE's layout (attributes, MillerIndices, evc re/im pairs) reads alike."""
    h5py = pytest.importorskip("h5py")
    reference = read_wavefunction(wavefunction_file(GAMMA_RUN, PREFIX))
    path = tmp_path / "wfc1.hdf5"
    with h5py.File(path, "w") as handle:
        for name, value in {"ik": 1, "ispin": 1, "ngw": 363, "igwx": 363, "npol": 1}.items():
            handle.attrs[name] = value
        handle.attrs.update({"nbnd": 12, "scale_factor": 1.0, "gamma_only": ".TRUE."})
        handle.attrs["xk"] = np.zeros(3)
        miller = handle.create_dataset("MillerIndices", data=reference.miller_indices)
        for i, vector in enumerate(reference.reciprocal_vectors_per_bohr, start=1):
            miller.attrs[f"bg{i}"] = vector
        handle.create_dataset("evc", data=reference.coefficients.view(np.float64))
    copy = read_wavefunction(path, band_window=(2, 5))
    assert copy.gamma_only
    np.testing.assert_array_equal(copy.coefficients, reference.coefficients[1:5])


def test_wavefunction_file_prefers_dat(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(GAMMA_RUN, run)
    (run / "cds.save" / "wfc1.hdf5").write_bytes(b"")
    assert wavefunction_file(run, PREFIX).suffix == ".dat"


def minimal_xml(path: Path, band_structure: str) -> None:
    """A data-file-schema.xml cut down to what read_band_structure reads (Hartree units)."""
    vectors = "".join(
        f"<b{i}>{' '.join(['1.0' if j == i else '0.0' for j in (1, 2, 3)])}</b{i}>"
        for i in (1, 2, 3)
    )
    path.write_text(
        "<qes:espresso xmlns:qes='x'><output>"
        "<atomic_structure nat='1' alat='10.0'/>"
        f"<basis_set><gamma_only>false</gamma_only><ecutwfc>15.0</ecutwfc><ecutrho>60.0</ecutrho>"
        f"<reciprocal_lattice>{vectors}</reciprocal_lattice></basis_set>"
        f"<band_structure>{band_structure}</band_structure></output></qes:espresso>"
    )


def test_lsda_energies_follow_the_wfc_file_numbering(tmp_path: Path) -> None:
    """LSDA: each k lists spin-up then spin-down; spin-down rows follow all spin-up rows."""
    k_block = (
        "<ks_energies><k_point weight='1.0'>{k} 0 0</k_point>"
        "<eigenvalues>{e}</eigenvalues></ks_energies>"
    )
    bands = "<lsda>true</lsda><noncolin>false</noncolin>"
    bands += "<highestOccupiedLevel>0.5</highestOccupiedLevel>"
    bands += k_block.format(k=0.0, e="0.1 0.2 -0.1 -0.2")
    bands += k_block.format(k=0.5, e="0.3 0.4 -0.3 -0.4")
    minimal_xml(tmp_path / "data-file-schema.xml", bands)
    result = read_band_structure(tmp_path / "data-file-schema.xml")
    expected_hartree = [[0.1, 0.2], [0.3, 0.4], [-0.1, -0.2], [-0.3, -0.4]]
    np.testing.assert_allclose(result.energies_ev, np.array(expected_hartree) * 27.211386245988)
    assert result.fermi_energy_ev == pytest.approx(0.5 * 27.211386245988)
    assert (result.lsda, result.ecutwfc_ry, result.n_bands) == (True, 30.0, 2)


@pytest.mark.real_qe
def test_committed_input_reproduces_the_recorded_wavefunctions(tmp_path: Path) -> None:
    """Rerun the committed Γ-only pw.in (NC pseudos from ld1.x): same energies, same states."""
    if shutil.which("pw.x") is None or shutil.which("ld1.x") is None:
        pytest.skip("Quantum ESPRESSO (pw.x, ld1.x) not installed")
    (tmp_path / "pseudo").mkdir()
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in ("Cd.pbe-n-nc.in", "S.pbe-n-nc.in"):
        with (REPOSITORY / "profiles" / "pseudos" / "nc" / name).open() as ld1_input:
            subprocess.run(
                ["ld1.x"],
                stdin=ld1_input,
                cwd=tmp_path / "pseudo",
                env=environment,
                check=True,
                capture_output=True,
                timeout=60,
            )
    shutil.copy(GAMMA_RUN / "pw.in", tmp_path / "pw.in")
    subprocess.run(
        ["pw.x", "-in", "pw.in"],
        cwd=tmp_path,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    recorded, fresh = (
        band_structure_of_run(GAMMA_RUN, PREFIX),
        band_structure_of_run(tmp_path, PREFIX),
    )
    np.testing.assert_allclose(fresh.energies_ev, recorded.energies_ev, atol=1e-4)
    window = (1, 10)  # whole degenerate sets only: bands 11-12 belong to a set cut by nbnd
    overlap = overlap_matrix(
        read_wavefunction(wavefunction_file(GAMMA_RUN, PREFIX), window),
        read_wavefunction(wavefunction_file(tmp_path, PREFIX), window),
    )
    np.testing.assert_allclose(np.linalg.svd(overlap, compute_uv=False), 1.0, atol=1e-6)


@pytest.mark.parametrize(("k_index", "name", "spin"), [(1, "wfcup1.dat", 1), (2, "wfcdw1.dat", 2)])
def test_spin_polarised_run_files_follow_the_global_k_index(
    k_index: int, name: str, spin: int
) -> None:
    """Reference: QE 6.7's own nspin=2 output (fixture) and its writer,
    ``PW/src/pw_restart_new.f90`` (``'wfc' // updw(ispin) // ik`` with ``ik`` counted per
    spin). The old lookup knew only ``wfc<ik>.dat`` and raised FileNotFoundError here."""
    path = wavefunction_file(LSDA_RUN, PREFIX, k_index)
    assert path.name == name
    wave = read_wavefunction(path)
    assert (wave.k_index, wave.spin_index, wave.gamma_only, wave.n_bands) == (1, spin, True, 12)
    overlap = overlap_matrix(wave, wave)
    np.testing.assert_allclose(overlap, np.eye(12), atol=1e-10)  # NC: orthonormal per spin


def test_spin_polarised_channels_differ_and_match_the_xml_rows() -> None:
    """The run is magnetised (2 μB in pw.out): up and down states and energies differ;
    the XML's global rows (1 = up, 2 = down) pair with wfcup1 / wfcdw1."""
    bands = band_structure_of_run(LSDA_RUN, PREFIX)
    assert bands.lsda
    assert bands.energies_ev.shape == (2, 12)
    assert np.abs(bands.energies_ev[0] - bands.energies_ev[1]).max() > 0.1
    up, down = (read_wavefunction(wavefunction_file(LSDA_RUN, PREFIX, k)) for k in (1, 2))
    assert (up.spin_index, down.spin_index) == (1, 2)
    assert np.abs(np.abs(up.coefficients) - np.abs(down.coefficients)).max() > 0.01
    with pytest.raises(FileNotFoundError, match=r"no wfcdw2\.dat"):
        wavefunction_file(LSDA_RUN, PREFIX, 3)
