"""The gap-peak assignment figure: how the gap spectrum is drawn.

Reference: the arrays handed in (the drawn stems/line must be them, point by point), and
the rule of Fig. 4c (``heterostructures/plots/na.py``): a spectrum whose bins are too far
apart to resolve a peak is drawn as stems, never as a line through the bins.
"""

from __future__ import annotations

import numpy as np
from matplotlib.container import StemContainer

from heterostructures.plots.vibrational import gap_peaks_by_element_figure

ELEMENTS = {"Cd": np.array([1.0, 2.0, 1.0]), "S": np.array([1.0, 0.0, 1.0])}


def test_an_unresolved_gap_spectrum_is_drawn_as_stems_at_its_bins() -> None:
    """The 0.12 demo's 100 fs of NVE: bins 0, 334, 668 cm⁻¹; a line drew a peak at 334."""
    frequencies, intensity = np.array([0.0, 334.0, 668.0]), np.array([0.0, 0.14, 0.02])
    figure = gap_peaks_by_element_figure(
        frequencies, intensity, frequencies, ELEMENTS, [], resolution_cm=334.0, resolved=False
    )
    top = figure.axes[0]
    (stems,) = [item for item in top.containers if isinstance(item, StemContainer)]
    np.testing.assert_array_equal(stems.markerline.get_xdata(), frequencies)
    np.testing.assert_array_equal(stems.markerline.get_ydata(), intensity)
    assert not [line for line in top.get_lines() if line is not stems.markerline
                and len(np.asarray(line.get_xdata())) == 3
                and np.array_equal(np.asarray(line.get_ydata(), float), intensity)]  # fmt: skip
    assert any("no peak can be resolved" in text.get_text() for text in top.texts)
    assert top.get_title().startswith("IS–FS gap spectrum")


def test_a_resolved_gap_spectrum_is_a_line() -> None:
    frequencies = np.linspace(0.0, 600.0, 61)
    intensity = np.exp(-(((frequencies - 120.0) / 20.0) ** 2))
    figure = gap_peaks_by_element_figure(
        frequencies, intensity, frequencies[:3], ELEMENTS, [(120.0, "120: Cs 64%")]
    )
    top = figure.axes[0]
    assert not [item for item in top.containers if isinstance(item, StemContainer)]
    (line,) = [line for line in top.get_lines() if len(np.asarray(line.get_xdata())) == 61]
    np.testing.assert_array_equal(line.get_ydata(), intensity)
