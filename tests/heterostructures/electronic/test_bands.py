"""Band gaps and occupied-band counts from Kohn–Sham eigenvalues."""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.electronic.bands import band_gap, band_relative_to_edge, occupied_bands


def test_float_electron_counts_from_qe_are_even() -> None:
    assert occupied_bands(98.00000000000001) == 49
    with pytest.raises(ValueError, match="odd electron count"):
        occupied_bands(97.0)


def test_gap_direct_and_indirect() -> None:
    energies = np.array([[-1.0, 0.0, 2.0], [-1.5, -0.2, 1.5]])
    gap = band_gap(energies, 4.0)
    assert gap.gap_ev == pytest.approx(1.5)
    assert not gap.direct
    with pytest.raises(ValueError, match="raise nbnd"):
        band_gap(energies, 6.0)


def test_band_relative_to_edge_keeps_distance_to_cbm() -> None:
    """PAW (116 e⁻) CBM + 1 is NC (98 e⁻) CBM + 1."""
    assert band_relative_to_edge(60, 58, 49) == 51
    with pytest.raises(ValueError, match="no counterpart"):
        band_relative_to_edge(1, 58, 49)
