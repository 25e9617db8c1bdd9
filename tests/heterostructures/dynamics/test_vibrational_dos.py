"""Element-resolved kinetic-energy spectra and peak assignment.

References: closed-form harmonic velocities (a cosine at a known wavenumber puts all its
power in that bin), Parseval's theorem (the spectrum sums to the mean kinetic energy,
computed directly from the velocities), and numpy's own frequency grid.
"""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.dynamics.vibrational_dos import (
    VibrationalInputError,
    assign_peaks,
    element_of,
    element_spectra,
)
from heterostructures.units import SPEED_OF_LIGHT_CM_PER_FS

DT_FS = 1.0
N_FRAMES = 1000


def _bin_cm(k: int) -> float:
    """Wavenumber of rfft bin k for N_FRAMES frames at DT_FS (cm⁻¹)."""
    return k / (N_FRAMES * DT_FS) / SPEED_OF_LIGHT_CM_PER_FS


def _harmonic(k_by_atom: list[int], amplitude: float = 0.01) -> np.ndarray:
    """Velocities (frames × atoms × 3, Å/fs): atom a oscillates exactly at bin k_a."""
    t = np.arange(N_FRAMES) * DT_FS
    v = np.zeros((N_FRAMES, len(k_by_atom), 3))
    for atom, k in enumerate(k_by_atom):
        v[:, atom, 0] = amplitude * np.cos(2 * np.pi * k * t / (N_FRAMES * DT_FS))
    return v


def test_cosine_velocities_put_each_element_at_its_wavenumber() -> None:
    """Cd atoms at bin 9 (≈ 300 cm⁻¹), Br atoms at bin 3 (≈ 100 cm⁻¹): closed form."""
    v = _harmonic([9, 9, 3])
    spectra = element_spectra(v, [112.4, 112.4, 79.9], ["Cd1", "Cd2", "Br"], DT_FS)
    assert spectra.resolution_cm == pytest.approx(_bin_cm(1))
    assert int(np.argmax(spectra.by_element["Cd"])) == 9
    assert int(np.argmax(spectra.by_element["Br"])) == 3
    assert spectra.frequencies_cm[9] == pytest.approx(_bin_cm(9))


def test_spectrum_obeys_parseval() -> None:
    """One-sided sum / (N dt) equals Σ m ⟨|v − ⟨v⟩|²⟩ computed from the velocities."""
    rng = np.random.default_rng(7)
    v = rng.normal(scale=0.005, size=(N_FRAMES, 4, 3))
    masses = np.array([132.9, 207.2, 79.9, 32.06])
    spectra = element_spectra(v, masses, ["Cs", "Pb", "Br", "S"], DT_FS)
    weights = np.full(spectra.frequencies_cm.size, 2.0)
    weights[0] = 1.0
    if N_FRAMES % 2 == 0:
        weights[-1] = 1.0
    one_sided = float((weights * spectra.total).sum()) / (N_FRAMES * DT_FS)
    fluctuation = v - v.mean(axis=0)
    direct = float((masses[None, :, None] * fluctuation**2).sum(axis=(1, 2)).mean())
    assert one_sided == pytest.approx(direct, rel=1e-10)


def test_peaks_are_assigned_to_the_element_that_moves_there() -> None:
    v = _harmonic([9, 3])
    spectra = element_spectra(v, [112.4, 79.9], ["Cd", "Br"], DT_FS)
    cd_peak, br_peak, empty = assign_peaks([_bin_cm(9), _bin_cm(3), _bin_cm(20)], spectra)
    assert cd_peak.assigned_to == "Cd"
    assert cd_peak.shares["Cd"] == pytest.approx(1.0)
    assert br_peak.assigned_to == "Br"
    assert br_peak.shares["Br"] == pytest.approx(1.0)
    assert empty.low_weight
    assert empty.weight == pytest.approx(0.0, abs=1e-20)
    assert not cd_peak.low_weight


def test_a_shared_mode_is_mixed() -> None:
    """Equal kinetic energy of two elements in one bin: shares ½ each, not assigned."""
    v = _harmonic([5, 5])
    v[:, 1] *= np.sqrt(112.4 / 32.06)  # equal m v² for Cd and S
    spectra = element_spectra(v, [112.4, 32.06], ["Cd", "S"], DT_FS)
    (peak,) = assign_peaks([_bin_cm(5)], spectra, dominant_share=0.6)
    assert peak.shares["Cd"] == pytest.approx(0.5)
    assert peak.assigned_to == "mixed"


@pytest.mark.parametrize(
    ("name", "element"), [("Cd1", "Cd"), ("S", "S"), ("Br_top", "Br"), ("Pb", "Pb"), ("s2", "S")]
)
def test_kind_names_reduce_to_elements(name: str, element: str) -> None:
    assert element_of(name) == element


@pytest.mark.parametrize(
    ("velocities", "masses", "symbols", "message"),
    [
        (np.zeros((4, 1, 3)), [1.0], ["Cd"], "≥ 8 frames"),
        (np.zeros((10, 2, 3)), [1.0], ["Cd", "S"], "masses"),
        (np.zeros((10, 1, 2)), [1.0], ["Cd"], "(frames, atoms, 3)"),
        (np.full((10, 1, 3), np.nan), [1.0], ["Cd"], "finite"),
    ],
)
def test_bad_input_is_refused(
    velocities: np.ndarray, masses: list[float], symbols: list[str], message: str
) -> None:
    with pytest.raises(
        VibrationalInputError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        element_spectra(velocities, masses, symbols, DT_FS)
