"""Checks of a ``janus.na_snapshots`` request, run in ``setup`` before any SCF.

Each check raises :class:`NaInputError`, which carries the name of the 2xx exit code the
workchain returns, so a bad selection, time step, band window or chain layout fails
before anything is submitted. ``janus.na_analysis`` raises the same error for its own
checks (:mod:`workflows.workchains.na_analysis`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm

from heterostructures.dynamics.md_diagnostics import select_snapshots
from heterostructures.electronic.bands import occupied_bands
from heterostructures.io.pw_md_output import TrajectoryError
from workflows.inputs.pw_builders import pseudo_valence_electrons, system_namelist

CARRIERS = ("electron", "hole")
"""The carriers a one-carrier NA basis can hold."""


class NaInputError(ValueError):
    """A snapshot or analysis request that cannot run; ``exit_code`` names the 2xx code."""

    def __init__(self, exit_code: str, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def selected_frames(trajectory: orm.TrajectoryData, selection: dict[str, Any]) -> list[int]:
    """Frame indices from ``frame_indices``, or ``stride`` with ``start_fs``/``stop_fs``."""
    n_frames = trajectory.numsteps
    if "frame_indices" in selection:
        frames = [int(index) for index in selection["frame_indices"]]
    else:
        times = trajectory.get_times()
        times = np.arange(n_frames, dtype=float) if times is None else np.asarray(times)
        try:
            frames = list(
                select_snapshots(
                    times,
                    selection.get("start_fs", float(times[0])),
                    selection.get("stop_fs"),
                    selection.get("stride", 1),
                ).frame_indices
            )
        except TrajectoryError as error:
            raise NaInputError("ERROR_EMPTY_SELECTION", str(error)) from error
    if not frames:
        raise NaInputError("ERROR_EMPTY_SELECTION", "the snapshot selection is empty")
    outside = [index for index in frames if not 0 <= index < n_frames]
    if outside or len(frames) < 2 or any(np.diff(frames) <= 0):
        raise NaInputError(
            "ERROR_TRAJECTORY_TOO_SHORT",
            f"need ≥ 2 increasing frame indices within the trajectory's {n_frames} frames, "
            f"got {frames}: run a longer janus.aimd or select fewer/earlier frames",
        )
    return frames


def snapshot_spacing_fs(
    trajectory: orm.TrajectoryData, frames: list[int], dt_fs: float | None
) -> float:
    """dt between snapshots (fs): from the trajectory's times, which must be evenly spaced."""
    times = trajectory.get_times()
    if times is None:
        if dt_fs is None:
            raise NaInputError(
                "ERROR_TIME_STEP", "the trajectory has no times: give dt_fs between snapshots"
            )
        return dt_fs
    spacing = np.diff(np.asarray(times)[frames])
    if not np.allclose(spacing, spacing[0], rtol=1e-6) or spacing[0] <= 0:
        raise NaInputError(
            "ERROR_TIME_STEP",
            f"snapshots are not evenly spaced in time ({spacing.min():g}–{spacing.max():g} fs): "
            "NAC by finite differences needs one dt; use a constant stride",
        )
    if dt_fs is not None and not np.isclose(dt_fs, spacing[0], rtol=1e-6):
        raise NaInputError(
            "ERROR_TIME_STEP",
            f"dt_fs = {dt_fs} fs but the selected frames are {spacing[0]:g} fs apart: "
            "omit dt_fs or fix the selection",
        )
    return float(spacing[0])


def check_band_window(band_window: list[int], parameters: dict[str, Any]) -> None:
    """The window must lie in 1..nbnd; nbnd must be set explicitly in ``SYSTEM``."""
    nbnd = system_namelist(parameters).get("nbnd")
    if nbnd is None:
        raise NaInputError(
            "ERROR_BAND_WINDOW", "set scf.pw.parameters.SYSTEM.nbnd: the band window needs it"
        )
    first, last = (int(band) for band in band_window)
    if not 1 <= first <= last <= nbnd:
        raise NaInputError(
            "ERROR_BAND_WINDOW",
            f"band window ({first}, {last}) is outside the computed bands 1..{nbnd} "
            "(1-based inclusive): narrow the window or raise nbnd",
        )


def check_carrier_window(band_window: list[int], carrier: str, highest_occupied: int) -> None:
    """An electron's window must start above the HOMO, a hole's end at or below it.

    ``highest_occupied`` (1-based, :func:`snapshot_highest_occupied`: the pseudopotentials'
    valence electrons − ``tot_charge``, halved):
    with occupied bands in an electron's basis the electron could hop into them.
    """
    if carrier not in CARRIERS:
        raise NaInputError("ERROR_BAND_WINDOW", f"carrier is 'electron' or 'hole', not {carrier!r}")
    first, last = (int(band) for band in band_window)
    lumo = highest_occupied + 1
    if carrier == "electron" and first < lumo:
        raise NaInputError(
            "ERROR_BAND_WINDOW",
            f"carrier 'electron': band window ({first}, {last}) holds occupied bands "
            f"(HOMO = band {highest_occupied}); the electron basis starts at the LUMO: "
            f"band_window = [{lumo}, {lumo} + electron_bands - 1]",
        )
    if carrier == "hole" and last > highest_occupied:
        raise NaInputError(
            "ERROR_BAND_WINDOW",
            f"carrier 'hole': band window ({first}, {last}) holds empty bands "
            f"(HOMO = band {highest_occupied}); the hole basis ends at the HOMO: "
            f"band_window = [{highest_occupied} - hole_bands + 1, {highest_occupied}]",
        )


def snapshot_highest_occupied(
    structure: orm.StructureData, pseudos: Any, parameters: dict[str, Any]
) -> int:
    """Highest occupied band (1-based) of the snapshot SCFs: pw.x's electron count (Σ
    ``z_valence`` − ``SYSTEM.tot_charge``) / 2, the HOMO that the carrier windows and
    ``janus.pipeline``'s IS/FS mapping are measured from.

    An odd count is refused before any SCF: pw.x accepts it with smearing, but without
    spin the top band is half filled, so there is no HOMO/LUMO to put a carrier's basis
    on (and the pipeline would find out only after every snapshot had run).
    """
    charge = float(system_namelist(parameters).get("tot_charge", 0.0))
    count = pseudo_valence_electrons((site.kind_name for site in structure.sites), pseudos, charge)
    try:
        return occupied_bands(count)
    except ValueError as error:
        raise NaInputError(
            "ERROR_ODD_ELECTRONS",
            f"{count:g} valence electrons (pseudopotentials, tot_charge {charge:g}) is not an "
            "even whole number: the snapshots have no HOMO without spin; use a model of whole "
            "formula units, or set na_snapshots.scf.pw.parameters.SYSTEM.tot_charge",
        ) from error


def check_spin_unpolarised(parameters: dict[str, Any]) -> None:
    """Refuse spin-polarised SCFs: QE then writes ``wfcup``/``wfcdw`` files and the
    one-carrier window, HOMO and overlaps of this workchain assume one spin channel."""
    system = system_namelist(parameters)
    magnetised = any(key.startswith("starting_magnetization") for key in system)
    if int(system.get("nspin", 1)) != 1 or magnetised:
        raise NaInputError(
            "ERROR_SPIN_POLARISED",
            "nspin=2 run: the NA snapshots need nspin=1 (unset nspin/starting_magnetization)",
        )


def chain_layout(n_snapshots: int, n_chains: int) -> list[list[int]]:
    """Contiguous chains of snapshot positions, as even as possible (longest first)."""
    if not 1 <= n_chains <= n_snapshots:
        raise NaInputError(
            "ERROR_CHAINS", f"n_chains must be in 1..{n_snapshots} (snapshots), got {n_chains}"
        )
    return [block.tolist() for block in np.array_split(np.arange(n_snapshots), n_chains)]


def check_fixed_cell(trajectory: orm.TrajectoryData, frames: list[int]) -> None:
    """The cell must be the same at every frame: overlaps need one plane-wave basis."""
    cells = trajectory.get_cells()
    if cells is not None and not np.allclose(cells[frames], cells[frames[0]], atol=1e-8):
        raise NaInputError(
            "ERROR_VARIABLE_CELL",
            "the cell changes between snapshots: overlaps need one plane-wave basis (NVE/NVT)",
        )


def carrier_band_window(
    highest_occupied: int, empty_bands: int, carrier: str, n_bands: int
) -> list[int]:
    """(first, last) pw.x bands (1-based, inclusive) of the one-carrier basis.

    ``highest_occupied`` is the HOMO of the snapshots (:func:`snapshot_highest_occupied`),
    ``empty_bands`` the bands above it (``nbnd`` − HOMO). An electron may only hop among
    empty states: LUMO .. LUMO + n − 1 (a doubly occupied band in its basis would let it
    fall into the valence band). A hole lives in the occupied ones: HOMO − n + 1 .. HOMO.
    """
    if carrier == "electron":
        if not 0 < n_bands <= empty_bands:
            raise ValueError(f"electron_bands must be in 1..{empty_bands} (the empty bands)")
        return [highest_occupied + 1, highest_occupied + n_bands]
    if carrier == "hole":
        if not 0 < n_bands <= highest_occupied:
            raise ValueError(f"hole_bands must be in 1..{highest_occupied} (the occupied bands)")
        return [highest_occupied - n_bands + 1, highest_occupied]
    raise ValueError(f"carrier must be one of {CARRIERS}, got {carrier!r}")
