"""|NAC|(t) and the gap ACF figures against independent expectations.

References: a rotation overlap S = [[cos θ, sin θ], [−sin θ, cos θ]] between two snapshots,
whose coupling d_01 = sin θ / dt follows from the definition d_ij = (S_ij − S_ji)/(2 dt)
by hand, run through :func:`heterostructures.dynamics.nac.nonadiabatic_couplings`; the ACF
of a cosine gap fluctuation, which is the cosine itself: ⟨cos ω(t'+t) cos ωt'⟩ / ⟨cos² ωt'⟩
= cos ωt over whole periods, computed by the dephasing's own ACF
(:func:`heterostructures.dynamics.dephasing.pure_dephasing`).
"""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.dynamics.dephasing import pure_dephasing
from heterostructures.dynamics.nac import nonadiabatic_couplings
from heterostructures.dynamics.spectra import spectral_density
from heterostructures.plots.files import figure_files
from heterostructures.plots.na_time import gap_acf_figure, nac_figure, pair_couplings
from heterostructures.units import HBAR_MEV_FS

DT_FS = 1.0


def _rotation(theta: float) -> np.ndarray:
    return np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])


def test_nac_of_a_rotation_overlap_is_hbar_sin_theta_over_dt() -> None:
    thetas = [0.01, 0.02, 0.005]
    nac = np.array([nonadiabatic_couplings(_rotation(t), DT_FS) for t in thetas])
    times = DT_FS * np.arange(len(thetas) + 1)
    (pair,) = pair_couplings(times, nac, [50, 51])
    assert pair.bands == (50, 51)
    np.testing.assert_allclose(pair.times_fs, [0.5, 1.5, 2.5])
    np.testing.assert_allclose(pair.magnitude_mev, HBAR_MEV_FS * np.sin(thetas) / DT_FS)
    figure = nac_figure(times, nac, [50, 51], highlight=(51, 50))
    (line,) = figure.axes[0].get_lines()
    np.testing.assert_allclose(
        np.asarray(line.get_ydata(), float), HBAR_MEV_FS * np.sin(thetas) / DT_FS
    )
    assert line.get_label() == "50–51 (IS–FS)"
    assert figure.axes[0].get_ylabel() == "ħ|d$_{ij}$| (meV)"
    assert figure.axes[0].get_xlabel() == "time (fs)"


def test_pairs_are_ranked_by_mean_coupling_and_the_rest_drawn_grey() -> None:
    """12 bands → 66 pairs: the 8 largest named, the others grey under one legend entry."""
    rng = np.random.default_rng(1)
    n = 12
    nac = rng.normal(size=(5, n, n)) * np.arange(1, n * n + 1).reshape(n, n) * 1e-4
    nac = nac - np.transpose(nac, (0, 2, 1))
    pairs = pair_couplings(np.arange(6.0), nac, list(range(40, 40 + n)))
    means = [float(p.magnitude_mev.mean()) for p in pairs]
    assert len(pairs) == n * (n - 1) // 2
    assert means == sorted(means, reverse=True)
    legend = nac_figure(np.arange(6.0), nac, list(range(40, 40 + n))).axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()][-1] == "other pairs"
    assert len(legend.get_texts()) == 9


def test_nac_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="snapshot times"):
        pair_couplings(np.arange(3.0), np.zeros((3, 2, 2)), [1, 2])


def test_gap_acf_of_a_cosine_is_the_cosine() -> None:
    """δE = A cos(2π t / 100 fs) over 40 periods: the dephasing's ACF, normalised by the
    figure, is cos(2π t / 100 fs) at every drawn lag."""
    times = DT_FS * np.arange(4000)
    fluctuation = 0.05 * np.cos(2 * np.pi * times / 100.0)
    dephasing = pure_dephasing(fluctuation, DT_FS, n_bootstrap=0, max_lag_fs=200.0)
    density = spectral_density(fluctuation, DT_FS)
    figure = gap_acf_figure(
        dephasing.times_fs,
        dephasing.acf_ev2,
        density.frequencies_cm,
        density.intensity,
        density.resolution_cm,
        True,
    )
    acf_axes, density_axes = figure.axes
    (line, _) = acf_axes.get_lines()
    np.testing.assert_allclose(np.asarray(line.get_xdata(), float), times[:201])
    np.testing.assert_allclose(
        np.asarray(line.get_ydata(), float), np.cos(2 * np.pi * times[:201] / 100.0), atol=2e-3
    )
    assert acf_axes.get_xlabel() == "time lag (fs)"
    assert density_axes.get_xlabel() == "frequency (cm$^{-1}$)"
    assert "σ = √C(0) = 35 meV" in acf_axes.get_title()  # 0.05 eV / √2


def test_a_gap_that_does_not_fluctuate_is_refused() -> None:
    with pytest.raises(ValueError, match="fluctuating"):
        gap_acf_figure([0.0, 1.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0], 300.0, False)


def test_new_na_figures_write_svg_and_png() -> None:
    nac = np.array([nonadiabatic_couplings(_rotation(0.01), DT_FS)] * 3)
    files = figure_files(nac_figure(np.arange(4.0), nac, [1, 2]))
    assert files["png"].startswith(b"\x89PNG")
    assert b"<svg" in files["svg"]
