"""Band gaps from Kohn–Sham eigenvalues of an insulator (fixed occupations, no spin)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class BandGap:
    """Fundamental gap of a band structure; energies in eV."""

    vbm_ev: float
    cbm_ev: float
    gap_ev: float
    direct: bool

    def as_dict(self) -> dict[str, Any]:
        """The fields, as stored."""
        return asdict(self)


def occupied_bands(n_electrons: float) -> int:
    """Doubly occupied bands of a spin-unpolarised insulator.

    QE prints electron counts as floats (98.00000000000001): they are rounded within
    1e-6. Raises ``ValueError`` for an odd count, which has no gap without spin.
    """
    n_occupied = round(n_electrons / 2)
    if abs(n_electrons / 2 - n_occupied) > 1e-6:
        raise ValueError(
            f"odd electron count {n_electrons}: a spin-unpolarised gap needs an even one"
        )
    return n_occupied


def band_gap(eigenvalues_ev: ArrayLike, n_electrons: float) -> BandGap:
    """Gap between the highest occupied and lowest empty band over all k-points.

    ``eigenvalues_ev`` has shape (n_kpoints, n_bands). Two electrons occupy each band;
    the calculation must have computed at least one empty band.
    """
    energies = np.atleast_2d(np.asarray(eigenvalues_ev, dtype=float))
    n_occupied = occupied_bands(n_electrons)
    if energies.shape[1] <= n_occupied:
        raise ValueError(
            f"{energies.shape[1]} bands computed for {n_occupied} occupied ones: "
            "raise nbnd to see the gap"
        )
    valence = energies[:, n_occupied - 1]
    conduction = energies[:, n_occupied]
    vbm, cbm = float(valence.max()), float(conduction.min())
    direct = int(valence.argmax()) == int(conduction.argmin())
    return BandGap(vbm_ev=vbm, cbm_ev=cbm, gap_ev=cbm - vbm, direct=direct)


def band_relative_to_edge(band: int, highest_occupied_from: int, highest_occupied_to: int) -> int:
    """The same state's band number in a calculation with another number of valence bands.

    Pseudopotential sets differ in semicore states (pslibrary NC Cs has 1 valence electron,
    PAW 9), so a state is identified by its position relative to the highest occupied band:
    CBM + n in one set is CBM + n in the other. Bands are 1-based (pw.x numbering).
    """
    mapped = band - highest_occupied_from + highest_occupied_to
    if band < 1 or mapped < 1:
        raise ValueError(f"band {band} has no counterpart (maps to {mapped})")
    return mapped
