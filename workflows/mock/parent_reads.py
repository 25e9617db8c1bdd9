"""What a QE run reads from its parent's ``prefix.save``, and whether a replay left it there.

Why: a recording keeps no wavefunctions (``wfc*.dat``) and, recorded with
``JANUS_MOCK_SKIP_CHARGE_DENSITY=1``, no ``charge-density.dat``. A step recorded
downstream of a *replayed* parent (the ``JANUS_MOCK_RECORD=missing`` resume) would then
run the real code on an incomplete parent, and QE 6.7 does not always stop:

* pw.x with ``startingpot='file'`` (forced by ``restart_mode='restart'``, implied by
  ``calculation='nscf'|'bands'``) prints "Cannot read rho : file not found" and goes on from
  a superposition of atomic densities (``PW/src/potinit.f90``): an NSCF with wrong bands
  and exit 0, or an MD chunk that is not the continuation it claims to be;
* pw.x with ``startingwfc='file'`` (also forced by a restart) stops: "cannot open restart
  file" (``Modules/io_base.f90``);
* projwfc.x needs both; pp.x the density always and the wavefunctions for the
  ``plot_num`` values built from orbitals (3, 4, 5, 7, 8, 10; ``PP/src/postproc.f90``);
  dos.x the density only (``read_file_new`` → ``read_scf`` stops without it).

Source read: QE tag ``qe-6.7MaX-Release`` (the Debian 6.7 build used here), files as named.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from workflows.mock.hashing import CHARGE_DENSITY_PATTERN, WAVEFUNCTION_PATTERNS

ORBITAL_PLOT_NUMS = frozenset({3, 4, 5, 7, 8, 10})
"""pp.x ``plot_num`` values computed from the Kohn-Sham orbitals (the rest from densities
and potentials)."""


def _namelist_value(text: str, key: str) -> str:
    """The lower-cased value of ``key`` in a namelist input ("" when absent), unquoted."""
    match = re.search(rf"^\s*{key}\s*=\s*([^\s,/]+)", text, re.IGNORECASE | re.MULTILINE)
    return match.group(1).strip("'\"").lower() if match else ""


def needed_parent_files(code: str, input_text: str) -> tuple[bool, bool]:
    """(density, wavefunctions): which parent files a run of ``code`` reads."""
    if code == "pw.x":
        restart = _namelist_value(input_text, "restart_mode") == "restart"
        non_scf = _namelist_value(input_text, "calculation") in ("nscf", "bands")
        density = restart or non_scf or _namelist_value(input_text, "startingpot") == "file"
        wavefunctions = restart or _namelist_value(input_text, "startingwfc") == "file"
        return density, wavefunctions
    if code == "projwfc.x":
        return True, True
    if code == "pp.x":
        plot_num = _namelist_value(input_text, "plot_num")
        return True, plot_num.isdigit() and int(plot_num) in ORBITAL_PLOT_NUMS
    if code == "dos.x":
        return True, False
    return False, False


def _holds(save: Path, patterns: tuple[str, ...]) -> bool:
    names = [path.name for path in save.iterdir() if path.is_file()]
    names += [f"{p.parent.name}/{p.name}" for p in save.glob("*/*") if p.is_file()]
    return any(fnmatch.fnmatch(name, pattern) for name in names for pattern in patterns)


def incomplete_parent(code: str, input_text: str, workdir: Path) -> Path | None:
    """The parent ``*.save`` folder in ``workdir`` that lacks a file this run reads, if any.

    A real parent leaves both files (QE 6.7 writes them at its final ``punch('all')``,
    relaxations and MD included, unless ``disk_io`` is ``'nowf'``/``'none'`` or the run was
    stopped unconverged); a replayed one leaves neither wavefunctions nor, when skipped,
    the density.
    """
    density, wavefunctions = needed_parent_files(code, input_text)
    if not (density or wavefunctions):
        return None
    for schema in sorted(workdir.glob("*/*.save/data-file-schema.xml")):
        save = schema.parent
        if density and not _holds(save, (CHARGE_DENSITY_PATTERN,)):
            return save
        if wavefunctions and not _holds(save, WAVEFUNCTION_PATTERNS):
            return save
    return None
