"""Share of each Kohn–Sham state on each interface domain, straight from its plane waves.

Why: the populations of an electron-transfer simulation count transfer only when the
electron leaves the donor *domain*; which adiabatic state sits where changes along the
trajectory, so the weights are needed at every snapshot, where only the wavefunction
files (not cube files) are at hand.

Planes of constant fractional coordinate x₃ along the third cell vector (spanned by a₁,
a₂; the interface normal of :mod:`heterostructures.structure.interface` cells) carry the line
density λ(x₃) = ∫∫|ψ|² over the plane. With ψ(r) = Σ_G c_G e^{iG·r} and G = m₁b₁ + m₂b₂ +
m₃b₃, λ(x₃) = Σ_{(m₁,m₂)} |Σ_{m₃} c_{m₁m₂m₃} e^{2πi m₃ x₃}|²: plane waves are grouped by
their in-plane Miller indices, each group is a 1-D inverse FFT along m₃, and the squares
are summed over the groups (and spinor components). With ``gamma_only`` QE stores half
of the sphere; the partners c(−G) = c(G)* are added first. λ is a trigonometric
polynomial of degree 2·max|m₃|, so its Fourier coefficients Λ_k come out exactly from
4·max|m₃| + 1 samples and its integral over any interval [s, e] is analytic:
Λ₀(e − s) + Σ_{k≠0} Λ_k (e^{2πike} − e^{2πiks}) / (2πik). No real-space grid, no
discretisation error.

Domains follow the rule of :data:`heterostructures.electronic.densities.PARTITION`: the cell is cut
midway between consecutive layer centres (circular means of the layers' x₃), and each
layer's slab belongs to its domain. Weights are fractions of the state's norm Σ|c|².
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heterostructures.io.wavefunctions import Wavefunction


class DomainWeightError(ValueError):
    """The labels cannot partition the cell, or the wavefunction holds no plane wave."""


@dataclass(frozen=True, eq=False)
class DomainPartition:
    """Slabs of the cell along x₃ (fractional, stop > start, may pass 1) and their domain."""

    domains: tuple[str, ...]
    starts: NDArray
    stops: NDArray
    owners: NDArray
    """(n_slabs,) index into ``domains`` of each slab."""


def domain_partition(
    fractional_z: Sequence[float] | NDArray, domains: Sequence[str], layers: Sequence[int]
) -> DomainPartition:
    """Cut the cell midway between consecutive (domain, layer) centres along x₃.

    ``fractional_z``: each atom's fractional coordinate along the third cell vector;
    ``domains``/``layers``: the per-site interface labels. Domains are sorted by name.
    """
    heights = np.asarray(fractional_z, dtype=float) % 1.0
    keys = list(zip((str(d) for d in domains), (int(n) for n in layers), strict=True))
    if len(keys) != heights.size or not keys:
        raise DomainWeightError(f"{heights.size} positions but {len(keys)} labels")
    groups = sorted(set(keys))
    centres = []
    for group in groups:
        angles = 2 * np.pi * heights[[i for i, key in enumerate(keys) if key == group]]
        centres.append((np.angle(np.exp(1j * angles).mean()) / (2 * np.pi)) % 1.0)
    order = np.argsort(centres)
    ring = np.asarray(centres)[order]
    following = np.append(ring[1:], ring[0] + 1.0)
    boundaries = 0.5 * (ring + following)
    names = tuple(sorted({group[0] for group in groups}))
    return DomainPartition(
        domains=names,
        starts=np.append(boundaries[-1] - 1.0, boundaries[:-1]),
        stops=boundaries,
        owners=np.array([names.index(groups[i][0]) for i in order]),
    )


def _full_sphere(wavefunction: Wavefunction) -> tuple[NDArray, NDArray]:
    """Miller indices (n_pw, 3) and coefficients (n_bands, npol, n_pw) of the whole sphere."""
    miller = wavefunction.miller_indices.astype(np.int64)
    coefficients = wavefunction.coefficients.reshape(
        wavefunction.n_bands, wavefunction.npol, wavefunction.n_plane_waves
    )
    if wavefunction.gamma_only:
        partners = miller.any(axis=1)
        miller = np.vstack([miller, -miller[partners]])
        coefficients = np.concatenate([coefficients, coefficients[:, :, partners].conj()], axis=2)
    return miller, coefficients


def line_density_coefficients(wavefunction: Wavefunction) -> NDArray:
    """Λ_k (n_bands × n, complex, NumPy FFT order k = 0, 1, …, −1) of λ(x₃) = Σ_k Λ_k e^{2πikx₃}.

    λ is per unit fractional length, so Λ₀ is the norm Σ|c|² (1 for orthonormal states).
    """
    miller, coefficients = _full_sphere(wavefunction)
    if miller.shape[0] == 0:
        raise DomainWeightError("wavefunction holds no plane wave")
    n_samples = 4 * int(np.abs(miller[:, 2]).max()) + 1
    _, group = np.unique(miller[:, :2], axis=0, return_inverse=True)
    group = group.ravel()
    columns = np.zeros(
        (wavefunction.n_bands, wavefunction.npol, int(group.max()) + 1, n_samples), dtype=complex
    )
    columns[:, :, group, miller[:, 2] % n_samples] = coefficients
    along_normal = np.fft.ifft(columns, axis=-1) * n_samples
    samples = (np.abs(along_normal) ** 2).sum(axis=(1, 2))
    return np.asarray(np.fft.fft(samples, axis=-1) / n_samples)


def line_density(wavefunction: Wavefunction, fractional_z: Sequence[float] | NDArray) -> NDArray:
    """λ(x₃) (n_bands × n_points): ∫∫|ψ|² over the plane at x₃, per unit fractional length."""
    coefficients = line_density_coefficients(wavefunction)
    frequencies = np.fft.fftfreq(coefficients.shape[1], 1.0 / coefficients.shape[1])
    phases = np.exp(2j * np.pi * np.outer(frequencies, np.asarray(fractional_z, dtype=float)))
    return np.asarray((coefficients @ phases).real)


def interval_integrals(coefficients: NDArray, starts: NDArray, stops: NDArray) -> NDArray:
    """∫_s^e λ(x₃) dx₃ (n_bands × n_intervals), exact for the trigonometric polynomial."""
    frequencies = np.fft.fftfreq(coefficients.shape[1], 1.0 / coefficients.shape[1])
    nonzero = frequencies != 0
    kernel = np.empty((frequencies.size, starts.size), dtype=complex)
    kernel[~nonzero] = stops - starts
    k = frequencies[nonzero][:, None]
    kernel[nonzero] = (
        np.exp(2j * np.pi * k * stops[None, :]) - np.exp(2j * np.pi * k * starts[None, :])
    ) / (2j * np.pi * k)
    return np.asarray((coefficients @ kernel).real)


def domain_weights(wavefunction: Wavefunction, partition: DomainPartition) -> NDArray:
    """Fraction of each band's norm in each domain (n_bands × n_domains, rows sum to 1)."""
    coefficients = line_density_coefficients(wavefunction)
    slabs = interval_integrals(coefficients, partition.starts, partition.stops)
    one_hot = np.eye(len(partition.domains))[partition.owners]
    return np.asarray((slabs @ one_hot) / coefficients[:, :1].real)
