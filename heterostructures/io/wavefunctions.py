"""Read Kohn–Sham wavefunctions and band energies written by Quantum ESPRESSO ≥ 6.4.

pw.x stores one file per k-point in ``<outdir>/<prefix>.save/``: ``wfcN.dat`` (Fortran
unformatted, sequential, 4-byte record markers) or ``wfcN.hdf5`` when QE was built with
HDF5. Record layout of ``wfcN.dat`` (confirmed on QE 6.7, ``Modules/io_base.f90``):

1. ``ik`` (i4), ``xk`` (3 f8, Cartesian, bohr⁻¹), ``ispin`` (i4), ``gamma_only`` (i4
   logical), ``scalef`` (f8);
2. ``ngw``, ``igwx``, ``npol``, ``nbnd`` (i4);
3. ``b1``, ``b2``, ``b3`` (9 f8, bohr⁻¹);
4. Miller indices (``igwx`` × 3 i4);
5. ``nbnd`` records of ``npol·igwx`` complex128 coefficients (spinor components one after
   the other).

Band energies come from ``data-file-schema.xml``, where QE writes them in **Hartree**;
they are returned here in **eV**. Band numbers follow QE: a band window ``(first, last)``
is 1-based and inclusive, as in pw.x output.
"""

from __future__ import annotations

import importlib
import importlib.util
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from heterostructures.units import HARTREE_EV

BandWindow = tuple[int, int]
"""Bands ``(first, last)``, 1-based and inclusive, as numbered by pw.x."""


class WavefunctionFileError(ValueError):
    """A wavefunction or XML file is malformed or not the QE format this module reads."""


class BandWindowError(ValueError):
    """The requested band window is not inside the bands pw.x computed."""


@dataclass(frozen=True, eq=False)
class Wavefunction:
    """Plane-wave coefficients of a band window at one k-point (and spin).

    ``coefficients[b, p * n_plane_waves + g]`` is the coefficient of band ``b`` of the
    window, spinor component ``p`` (``npol`` = 2 only for noncollinear runs), on the
    plane wave with Miller indices ``miller_indices[g]``. With ``gamma_only`` only half of
    the G sphere is stored (ψ(−G) = ψ*(G)), so overlaps need ``2 Re Σ_{G≠0} + G=0 term``.
    """

    k_index: int
    """``ik`` from the file header (1-based); with LSDA the index within its spin channel
    (``wfcup1`` and ``wfcdw1`` both hold ``ik = 1``), ``spin_index`` says which."""
    k_cartesian_per_bohr: np.ndarray
    spin_index: int
    gamma_only: bool
    scale_factor: float
    n_plane_waves_global: int
    """``ngw``: plane waves in the whole (not per-k) wavefunction sphere."""
    npol: int
    n_bands_in_file: int
    reciprocal_vectors_per_bohr: np.ndarray
    """Rows b1, b2, b3 (bohr⁻¹)."""
    miller_indices: np.ndarray
    """(n_plane_waves, 3) int32."""
    coefficients: np.ndarray
    """(n_bands, npol · n_plane_waves) complex128."""
    band_window: BandWindow

    @property
    def n_plane_waves(self) -> int:
        """Number of plane waves ``igwx`` stored for this k-point."""
        return int(self.miller_indices.shape[0])

    @property
    def n_bands(self) -> int:
        """Number of bands held (the size of the band window)."""
        return int(self.coefficients.shape[0])


def validate_band_window(band_window: BandWindow | None, n_bands: int, source: str) -> BandWindow:
    """Return the 1-based inclusive window (all bands if ``None``); raise ``BandWindowError``."""
    if band_window is None:
        return (1, n_bands)
    first, last = (int(band_window[0]), int(band_window[1]))
    if not 1 <= first <= last <= n_bands:
        raise BandWindowError(
            f"band window {band_window} is outside the bands computed in {source} (1..{n_bands}, "
            "1-based inclusive): narrow the window or rerun pw.x with a larger nbnd"
        )
    return (first, last)


def read_wavefunction(path: Path | str, band_window: BandWindow | None = None) -> Wavefunction:
    """Read one ``wfcN.dat`` or ``wfcN.hdf5`` file, keeping only the bands in ``band_window``.

    Bands outside the window are skipped on disk (not loaded), so memory is bounded by the
    window: n_bands × npol × igwx × 16 bytes.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"wavefunction file {path} does not exist")
    if path.suffix == ".hdf5":
        return _read_hdf5(path, band_window)
    if path.suffix != ".dat":
        raise WavefunctionFileError(f"{path}: expected a QE wfcN.dat or wfcN.hdf5 file")
    with path.open("rb") as stream:
        return _read_fortran_dat(stream, str(path), band_window)


def _read_record(stream: BinaryIO, source: str, expected_bytes: int | None = None) -> bytes:
    """Read one sequential Fortran record (4-byte little-endian length markers)."""
    head = stream.read(4)
    if len(head) < 4:
        raise WavefunctionFileError(f"{source}: file ends before an expected record")
    n_bytes = int(np.frombuffer(head, "<i4")[0])
    if n_bytes < 0 or (expected_bytes is not None and n_bytes != expected_bytes):
        raise WavefunctionFileError(
            f"{source}: record of {n_bytes} bytes where {expected_bytes} were expected; "
            "not a QE >= 6.4 wfcN.dat written by gfortran on a little-endian machine"
        )
    payload = stream.read(n_bytes)
    tail = stream.read(4)
    if len(payload) < n_bytes or tail != head:
        raise WavefunctionFileError(f"{source}: truncated or corrupt record")
    return payload


def _read_fortran_dat(
    stream: BinaryIO, source: str, band_window: BandWindow | None
) -> Wavefunction:
    header = _read_record(stream, source, expected_bytes=44)
    k_index = int(np.frombuffer(header, "<i4", 1, 0)[0])
    k_cartesian = np.frombuffer(header, "<f8", 3, 4).copy()
    spin_index, gamma_flag = np.frombuffer(header, "<i4", 2, 28)
    scale_factor = float(np.frombuffer(header, "<f8", 1, 36)[0])
    ngw, igwx, npol, nbnd = (int(v) for v in np.frombuffer(_read_record(stream, source, 16), "<i4"))
    if npol not in (1, 2) or igwx <= 0 or nbnd <= 0:
        raise WavefunctionFileError(f"{source}: implausible header npol={npol}, igwx={igwx}")
    reciprocal = np.frombuffer(_read_record(stream, source, 72), "<f8").reshape(3, 3).copy()
    miller = np.frombuffer(_read_record(stream, source, 12 * igwx), "<i4").reshape(igwx, 3)
    first, last = validate_band_window(band_window, nbnd, source)
    band_bytes = 16 * npol * igwx
    stream.seek((first - 1) * (band_bytes + 8), 1)
    coefficients = np.empty((last - first + 1, npol * igwx), dtype=np.complex128)
    for row in range(coefficients.shape[0]):
        coefficients[row] = np.frombuffer(_read_record(stream, source, band_bytes), "<c16")
    return Wavefunction(
        k_index=k_index,
        k_cartesian_per_bohr=k_cartesian,
        spin_index=int(spin_index),
        gamma_only=bool(gamma_flag),
        scale_factor=scale_factor,
        n_plane_waves_global=ngw,
        npol=npol,
        n_bands_in_file=nbnd,
        reciprocal_vectors_per_bohr=reciprocal,
        miller_indices=miller.astype(np.int32),
        coefficients=coefficients,
        band_window=(first, last),
    )


def hdf5_available() -> bool:
    """Whether ``h5py`` can be imported (needed only for QE built with HDF5)."""
    return importlib.util.find_spec("h5py") is not None


def _read_hdf5(path: Path, band_window: BandWindow | None) -> Wavefunction:
    """Read ``wfcN.hdf5``: root attributes, ``MillerIndices`` (bg1..3), ``evc`` (re/im pairs)."""
    if not hdf5_available():
        raise WavefunctionFileError(
            f"{path} is an HDF5 wavefunction but h5py is not installed: `pip install h5py`"
        )
    h5py = importlib.import_module("h5py")
    with h5py.File(path, "r") as handle:
        attributes = handle.attrs
        npol, igwx, nbnd = (int(attributes[name]) for name in ("npol", "igwx", "nbnd"))
        first, last = validate_band_window(band_window, nbnd, str(path))
        miller_dataset = handle["MillerIndices"]
        reciprocal = np.array([miller_dataset.attrs[f"bg{i}"] for i in (1, 2, 3)], dtype=float)
        pairs = np.asarray(handle["evc"][first - 1 : last], dtype=np.float64)
        gamma_text = attributes["gamma_only"]
        gamma_text = gamma_text.decode() if isinstance(gamma_text, bytes) else str(gamma_text)
        return Wavefunction(
            k_index=int(attributes["ik"]),
            k_cartesian_per_bohr=np.asarray(attributes["xk"], dtype=float),
            spin_index=int(attributes["ispin"]),
            gamma_only=gamma_text.strip().upper() == ".TRUE.",
            scale_factor=float(attributes["scale_factor"]),
            n_plane_waves_global=int(attributes["ngw"]),
            npol=npol,
            n_bands_in_file=nbnd,
            reciprocal_vectors_per_bohr=reciprocal,
            miller_indices=np.asarray(miller_dataset[:igwx], dtype=np.int32).reshape(igwx, 3),
            coefficients=np.ascontiguousarray(pairs).view(np.complex128),
            band_window=(first, last),
        )


@dataclass(frozen=True, eq=False)
class BandStructure:
    """Kohn–Sham energies and basis facts from a pw.x ``data-file-schema.xml``.

    ``energies_ev[k, b]`` uses QE's global k index (0-based here): with LSDA the spin-down
    k-points follow the spin-up ones; :func:`wavefunction_file` maps k + 1 to ``wfc<k+1>``
    or, for LSDA, to ``wfcup<k+1>`` / ``wfcdw<k+1−n_k>``.
    """

    energies_ev: np.ndarray
    k_points_2pi_over_alat: np.ndarray
    k_weights: np.ndarray
    fermi_energy_ev: float | None
    """Fermi energy (smearing) or highest occupied level (fixed occupations), eV."""
    ecutwfc_ry: float
    ecutrho_ry: float
    reciprocal_vectors_2pi_over_alat: np.ndarray
    alat_bohr: float
    gamma_only: bool
    lsda: bool
    noncollinear: bool

    @property
    def n_bands(self) -> int:
        """Bands computed per k-point (pw.x ``nbnd``)."""
        return int(self.energies_ev.shape[1])


def _xml_text(root: ET.Element, path: str, source: Path) -> str:
    return _required(root, path, source).text or ""


def _xml_floats(node: ET.Element) -> np.ndarray:
    return np.array((node.text or "").split(), dtype=float)


def read_band_structure(xml_path: Path | str) -> BandStructure:
    """Read band energies (converted from Hartree to eV) and cutoffs (Hartree → Ry)."""
    xml_path = Path(xml_path)
    if not xml_path.is_file():
        raise FileNotFoundError(f"pw.x XML file {xml_path} does not exist")
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as error:
        raise WavefunctionFileError(f"{xml_path}: not well-formed XML ({error})") from error
    bands = root.find("output/band_structure")
    basis = root.find("output/basis_set")
    if bands is None or basis is None:
        raise WavefunctionFileError(f"{xml_path}: no <output> band structure; did pw.x finish?")
    ks_nodes = bands.findall("ks_energies")
    energies = np.array([_xml_floats(_required(n, "eigenvalues", xml_path)) for n in ks_nodes])
    lsda = _xml_text(bands, "lsda", xml_path).strip() == "true"
    if lsda:  # each k-point lists spin-up then spin-down eigenvalues
        energies = np.concatenate(np.split(energies, 2, axis=1), axis=0)
    k_nodes = [_required(n, "k_point", xml_path) for n in ks_nodes]
    fermi = bands.find("fermi_energy")
    if fermi is None:
        fermi = bands.find("highestOccupiedLevel")
    reciprocal = np.array(
        [_xml_floats(_required(basis, f"reciprocal_lattice/b{i}", xml_path)) for i in (1, 2, 3)]
    )
    structure = _required(root, "output/atomic_structure", xml_path)
    return BandStructure(
        energies_ev=energies * HARTREE_EV,
        k_points_2pi_over_alat=np.array([_xml_floats(n) for n in k_nodes]),
        k_weights=np.array([float(n.attrib["weight"]) for n in k_nodes]),
        fermi_energy_ev=None if fermi is None else float(fermi.text or "nan") * HARTREE_EV,
        ecutwfc_ry=2.0 * float(_xml_text(basis, "ecutwfc", xml_path)),
        ecutrho_ry=2.0 * float(_xml_text(basis, "ecutrho", xml_path)),
        reciprocal_vectors_2pi_over_alat=reciprocal,
        alat_bohr=float(structure.attrib["alat"]),
        gamma_only=_xml_text(basis, "gamma_only", xml_path).strip() == "true",
        lsda=lsda,
        noncollinear=_xml_text(bands, "noncolin", xml_path).strip() == "true",
    )


def _required(parent: ET.Element, path: str, source: Path) -> ET.Element:
    node = parent.find(path)
    if node is None:
        raise WavefunctionFileError(
            f"{source}: missing <{path}>; is it a pw.x data-file-schema.xml?"
        )
    return node


def save_directory(outdir: Path | str, prefix: str) -> Path:
    """Return ``<outdir>/<prefix>.save``, or raise ``FileNotFoundError`` saying what is there."""
    save_dir = Path(outdir) / f"{prefix}.save"
    if not save_dir.is_dir():
        found = sorted(p.name for p in Path(outdir).glob("*.save")) if Path(outdir).is_dir() else []
        raise FileNotFoundError(
            f"no pw.x save directory {save_dir} (prefix {prefix!r}); found {found or 'none'}: "
            "check the prefix and that pw.x wrote its data (disk_io not 'none')"
        )
    return save_dir


def _file_stem(save_dir: Path, k_index: int) -> str:
    """``wfc<k>``, or for LSDA runs ``wfcup<k>`` / ``wfcdw<k − n_k>`` (global k index).

    QE ≥ 6.4 (``PW/src/pw_restart_new.f90``, ``write_collected_wfc``; checked on a QE 6.7
    nspin=2 run) names the file ``'wfc' // updw(ispin) // ik`` with ``ik`` counted within
    the spin channel, while the XML and :class:`BandStructure` number the spin-down
    k-points after the n_k spin-up ones.
    """
    if not any(save_dir.glob("wfcup*")):
        return f"wfc{k_index}"
    n_k = read_band_structure(save_dir / "data-file-schema.xml").energies_ev.shape[0] // 2
    return f"wfcup{k_index}" if k_index <= n_k else f"wfcdw{k_index - n_k}"


def wavefunction_file(outdir: Path | str, prefix: str, k_index: int = 1) -> Path:
    """Locate the wavefunction file (``.dat`` or ``.hdf5``) of QE's global k index ``ik``
    in ``<outdir>/<prefix>.save``: ``wfc<ik>``, or ``wfcup``/``wfcdw`` for LSDA runs."""
    save_dir = save_directory(outdir, prefix)
    stem = _file_stem(save_dir, k_index)
    for suffix in (".dat", ".hdf5"):
        candidate = save_dir / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    present = sorted(p.name for p in save_dir.glob("wfc*"))
    raise FileNotFoundError(
        f"no {stem}.dat or {stem}.hdf5 in {save_dir} (present: {present or 'none'}); "
        "pw.x must keep wavefunctions (do not set disk_io='none' or wf_collect=.false.)"
    )


def band_structure_of_run(outdir: Path | str, prefix: str) -> BandStructure:
    """Read ``<outdir>/<prefix>.save/data-file-schema.xml`` (energies in eV)."""
    return read_band_structure(save_directory(outdir, prefix) / "data-file-schema.xml")


GAUGE_PLANE_WAVES = 8
"""Coefficients kept per band by :func:`gauge_fingerprint` (a few kB at 100 bands)."""
GAUGE_COHERENCE = 0.9
"""Least |Σ c'* c| / Σ |c'||c| over the shared plane waves for two fingerprints to be
called the same state (1 for equal states up to a phase; noise of a converged SCF ~1e-4)."""


def gauge_fingerprint(
    wavefunction: Wavefunction, n_plane_waves: int = GAUGE_PLANE_WAVES
) -> tuple[np.ndarray, np.ndarray]:
    """Miller indices (n_bands, n, 3) and coefficients (n_bands, n) of each band's largest
    plane-wave coefficients (collinear runs).

    Two SCF runs of one structure give the same states up to one phase per band (a sign
    for Γ-only). Kept when the wavefunction files are deleted, these few numbers are
    enough to find that phase (:func:`relative_phases`).
    """
    if wavefunction.npol != 1:
        raise ValueError("gauge fingerprints are for collinear runs (npol = 1)")
    count = min(n_plane_waves, wavefunction.n_plane_waves)
    largest = np.argsort(-np.abs(wavefunction.coefficients), axis=1, kind="stable")[:, :count]
    miller = wavefunction.miller_indices[largest].astype(np.int32)
    return miller, np.take_along_axis(wavefunction.coefficients, largest, axis=1)


def relative_phases(
    reference: tuple[np.ndarray, np.ndarray],
    other: tuple[np.ndarray, np.ndarray],
    gamma_only: bool = False,
) -> np.ndarray:
    """Per band the unit phase u with |reference_b⟩ ≈ u |other_b⟩.

    ``reference`` and ``other`` are :func:`gauge_fingerprint` s of two runs of the same
    structure; u is the phase of x = Σ c_other*(G) c_reference(G) over the plane waves both
    list. Γ-only runs store half the G sphere of a real state: the overlap is 2 Re x and
    u = ±1. Raises ``ValueError`` when a band shares no plane wave or is not the same state
    (coherence below :data:`GAUGE_COHERENCE`).
    """
    phases = []
    for band, (miller, coefficients) in enumerate(zip(*reference, strict=True)):
        others = {tuple(m): c for m, c in zip(other[0][band], other[1][band], strict=True)}
        shared = [
            (c, others[tuple(m)])
            for m, c in zip(miller, coefficients, strict=True)
            if tuple(m) in others
        ]
        overlap = sum(np.conj(theirs) * ours for ours, theirs in shared)
        overlap = overlap.real if gamma_only else overlap
        scale = sum(abs(theirs) * abs(ours) for ours, theirs in shared)
        if not shared or abs(overlap) < GAUGE_COHERENCE * scale:
            raise ValueError(f"band {band} of the window is not the same state in both runs")
        phases.append(overlap / abs(overlap))
    return np.array(phases, dtype=np.float64 if gamma_only else np.complex128)
