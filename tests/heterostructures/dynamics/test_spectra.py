"""Known-answer tests for the gap spectral density (dephasing: test_dephasing.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pytest
from numpy.typing import NDArray

from heterostructures.dynamics.spectra import (
    ResolutionError,
    SpectraInputError,
    autocorrelation,
    find_spectral_peaks,
    frequency_resolution_cm,
    gap_fluctuation,
    required_length_fs,
    resolution_needed_for,
    spectral_density,
)
from heterostructures.units import SPEED_OF_LIGHT_CM_PER_FS

DT_FS = 1.0
UNKNOWN_METHOD: Any = "fft"  # a caller ignoring the type hints
MODES_CM = (33.0, 72.0, 130.0, 200.0)  # the paper's PbBr6 and Pb–Br modes


def cosine_signal(frequencies_cm: tuple[float, ...], nsteps: int) -> NDArray:
    """Sum of cosines (eV) at the given wavenumbers, amplitudes 0.02–0.05 eV."""
    times = DT_FS * np.arange(nsteps)
    amplitudes = (0.05, 0.03, 0.02, 0.04)
    return sum(
        a * np.cos(2 * np.pi * f * SPEED_OF_LIGHT_CM_PER_FS * times + 0.7 * i)
        for i, (a, f) in enumerate(zip(amplitudes, frequencies_cm, strict=False))
    )


def test_resolution_formula_matches_the_paper_scale() -> None:
    assert required_length_fs(33.0) == pytest.approx(1010.8, rel=1e-3)
    assert frequency_resolution_cm(required_length_fs(12.5)) == pytest.approx(12.5)
    assert resolution_needed_for(MODES_CM) == pytest.approx(33.0)  # 33 from 0, 39 from 72


@pytest.mark.parametrize("method", ["power", "acf"])
def test_cosine_gap_gives_peaks_at_the_cosine_frequencies(method: Literal["power", "acf"]) -> None:
    density = spectral_density(cosine_signal(MODES_CM, 6000), DT_FS, method=method)
    peaks = find_spectral_peaks(density, max_frequency_cm=1000.0)
    strongest = sorted(peaks, key=lambda p: p.intensity, reverse=True)[: len(MODES_CM)]
    found = sorted(p.frequency_cm for p in strongest)
    assert np.allclose(found, MODES_CM, atol=density.resolution_cm)


def test_power_spectrum_is_the_fourier_transform_of_the_biased_acf() -> None:
    """Wiener–Khinchin: the power convention is the FT of the biased ACF (module doc)."""
    signal = cosine_signal(MODES_CM, 512)
    signal = signal - signal.mean()
    acf = autocorrelation(signal, DT_FS, estimator="biased").acf_ev2
    two_sided = np.concatenate([acf, [0.0], acf[:0:-1]])  # lags 0..N-1, N, -(N-1)..-1
    transform = DT_FS * np.fft.rfft(two_sided).real[::2]
    assert np.allclose(spectral_density(signal, DT_FS).intensity, transform, atol=1e-12)


def test_acf_of_a_cosine_is_a_cosine() -> None:
    amplitude, frequency_cm = 0.04, 100.0
    signal = amplitude * np.cos(
        2 * np.pi * frequency_cm * SPEED_OF_LIGHT_CM_PER_FS * np.arange(20000)
    )
    acf = autocorrelation(signal, DT_FS)
    lags = acf.times_fs[:2000]
    expected = (
        0.5 * amplitude**2 * np.cos(2 * np.pi * frequency_cm * SPEED_OF_LIGHT_CM_PER_FS * lags)
    )
    assert np.allclose(acf.acf_ev2[:2000], expected, atol=0.02 * amplitude**2)
    assert acf.acf_ev2[0] == pytest.approx(np.mean(signal**2))


def test_too_short_trajectory_raises_with_needed_length() -> None:
    short = cosine_signal(MODES_CM, 200)
    with pytest.raises(ResolutionError, match=r"needs a trajectory of ≥ 1011 fs"):
        spectral_density(short, DT_FS, required_resolution_cm=33.0)
    flagged = spectral_density(short, DT_FS, required_resolution_cm=33.0, on_unresolved="flag")
    assert flagged.resolved is False
    assert flagged.resolution_cm == pytest.approx(166.8, rel=1e-3)
    assert "1011 fs" in flagged.resolution_note
    long_enough = spectral_density(
        cosine_signal(MODES_CM, 1100), DT_FS, required_resolution_cm=33.0
    )
    assert long_enough.resolved is True


def test_acf_method_with_hann_lag_window_reports_no_side_lobes() -> None:
    """Two well-separated cosines (100, 300 cm⁻¹): exactly two peaks.

    Reference: the rectangular cut's spectral window is a Dirichlet kernel whose side
    lobes reach −22 % of a line (closed form); the old acf spectrum reported them as
    extra peaks. The Hann lag window's FWHM is 1/(c L) (its spectral window is a Hann
    window of length 2L, whose half-amplitude width is 2 bins of 1/(2L))."""
    times = DT_FS * np.arange(4000)
    two_lines = np.cos(2 * np.pi * 100.0 * SPEED_OF_LIGHT_CM_PER_FS * times) + 0.7 * np.cos(
        2 * np.pi * 300.0 * SPEED_OF_LIGHT_CM_PER_FS * times + 1.0
    )
    hann = spectral_density(two_lines, DT_FS, method="acf", max_lag_fs=1000.0)
    peaks = find_spectral_peaks(hann, max_frequency_cm=600.0)
    assert [round(p.frequency_cm / 10) * 10 for p in peaks] == [100, 300]
    assert hann.resolution_cm == pytest.approx(1.0 / (SPEED_OF_LIGHT_CM_PER_FS * 1000.0), rel=1e-3)
    assert hann.lag_window == "hann lag window"
    assert "FWHM" in hann.resolution_note
    rectangular = spectral_density(
        two_lines, DT_FS, method="acf", max_lag_fs=1000.0, lag_window_name="rectangular"
    )
    assert len(find_spectral_peaks(rectangular, max_frequency_cm=600.0)) > 4
    assert rectangular.resolution_cm == pytest.approx(0.603 * hann.resolution_cm, rel=0.01)


def test_gap_series_is_is_minus_fs_with_mean_removed() -> None:
    energies = np.stack([np.linspace(0.0, 1.0, 10), np.full(10, 2.0)], axis=1)
    series = gap_fluctuation(energies, DT_FS, initial_band=1, final_band=0)
    assert np.allclose(series.gap_ev, 2.0 - energies[:, 0])
    assert series.mean_gap_ev == pytest.approx(1.5)
    assert series.fluctuation_ev.mean() == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: gap_fluctuation(np.zeros((10, 2)), DT_FS, 0, 2), "outside the band window"),
        (lambda: gap_fluctuation(np.zeros(10), DT_FS, 0, 1), "nsteps × nbands"),
        (lambda: autocorrelation(np.zeros(4), DT_FS), "too short"),
        (lambda: autocorrelation(np.full(10, np.nan), DT_FS), "NaN"),
        (lambda: spectral_density(np.zeros(10), -1.0), "positive"),
        (lambda: spectral_density(np.zeros(10), DT_FS, method=UNKNOWN_METHOD), "method"),
        (lambda: spectral_density(np.zeros(10), DT_FS, method="acf", max_lag_fs=50), "max_lag"),
    ],
)
def test_bad_input_raises_clear_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(SpectraInputError, match=message):
        call()
