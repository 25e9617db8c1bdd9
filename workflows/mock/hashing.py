"""Normalise a QE run's inputs and hash them: the key under which a recording is stored.

What goes into the hash (the *hash material*, a small text kept with each recording so
that a miss can be diffed against the nearest recording):

* the code name (``pw.x``, ``projwfc.x``, ...);
* the input file with volatile lines removed: ``outdir``, ``pseudo_dir``, ``wfcdir``
  (absolute paths differ between machines and AiiDA work folders) and ``max_seconds``
  (derived from the scheduler wall time, not physics); trailing blanks and blank lines;
* the sha256 of every pseudopotential named in ``ATOMIC_SPECIES``, with the generation
  date that ld1.x stamps into UPF files masked;
* the **names** of the parent files present in the working directory (restart folders
  such as ``out/aiida.save/data-file-schema.xml``), never their bytes, and not the name
  of the charge density (see :data:`UNHASHED_PARENT_PATTERNS`);
* for post-processing codes (``projwfc.x``, ``pp.x``, ``dos.x``), whose input file names
  no structure, the parent's *system*: species and positions from its
  ``data-file-schema.xml``, rounded to 1e-3 bohr (well above run-to-run noise), so two
  systems with the same post-processing input never share a recording;
* for them too, the parent's *basis*, in clear text (:func:`parent_basis`): cell (bohr),
  ``ecutwfc`` and ``ecutrho`` (Ha), the FFT grid and ``gamma_only``, from the output
  section of the same file. Why: until 2026-12-07 two parents with the same atoms and
  other cutoffs (capped ``balanced``'s and ``stringent``'s bulk references: dual 8 and
  10) gave their pp.x runs one key, and ``stringent`` replayed ``balanced``'s cube, on
  another FFT grid.

Why parent bytes are not hashed: QE output is not bitwise reproducible from run to run
(threading, FFT planning and summation order change the last digits). A recording of a
chained step (nscf, projwfc, pp) is made downstream of one real parent run; a replay is
downstream of the *replayed* parent, and a re-recording downstream of another real run.
Hashing parent bytes would make every chained replay miss. What this gives up: a change
that alters only a parent's content while leaving every input file of the chain equal
cannot be detected here; it is caught where the parent itself is hashed, since the
parent step's own inputs changed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

VOLATILE_KEYS = ("outdir", "pseudo_dir", "wfcdir", "max_seconds")
_VOLATILE_LINE = re.compile(rf"^\s*({'|'.join(VOLATILE_KEYS)})\s*=", re.IGNORECASE)
_PSEUDO_DIR = re.compile(r"^\s*pseudo_dir\s*=\s*['\"]([^'\"]*)['\"]", re.IGNORECASE | re.MULTILINE)
_SIGNED_ZERO = re.compile(r"(?<![\w.+-])-(0\.0*(?:[dDeE][+-]?\d+)?)(?![\w.])")
"""A negative zero as a whole number token (not part of a name or a longer number). The
blank put for its sign matches a positive zero only where the writer pads numbers to a
fixed width, as aiida-quantumespresso does for every number it writes (18 characters)."""
_UPF_DATE_ATTRIBUTE = re.compile(r'date="[^"]*"')
_UPF_DATE_LINE = re.compile(r"Generation date:.*")
_CARD_NAMES = (
    "ATOMIC_SPECIES",
    "ATOMIC_POSITIONS",
    "K_POINTS",
    "CELL_PARAMETERS",
    "OCCUPATIONS",
    "CONSTRAINTS",
    "ATOMIC_VELOCITIES",
    "ATOMIC_FORCES",
    "ADDITIONAL_K_POINTS",
    "SOLVENTS",
    "HUBBARD",
)

# Files never recorded nor hashed as parent names: wavefunctions (large, opt-in for
# recordings), scratch buffers that pw.x deletes or rewrites, and AiiDA's own files.
TRANSIENT_PATTERNS = (
    "*.filplot",  # pp.x's intermediate; aiida-qe retrieves only the final ``fileout``
    "*.wfc*",
    "*.oldwfc*",  # MD extrapolation history (wfc_extrapolation): megabytes, never replayed
    "*.old2wfc*",
    "*charge-old*",  # its pot_extrapolation counterpart (charge-old.dat, charge-old2.dat)
    "*.mix*",
    "*.hub*",
    "*.igk*",
    "*.restart_*",
    "_aiidasubmit.sh",
    "_scheduler-*",
    ".aiida/*",
)
WAVEFUNCTION_PATTERNS = ("wfc*.dat", "wfc*.hdf5", "*/wfc*.dat", "*/wfc*.hdf5")


class InputHashingError(ValueError):
    """The inputs of a run could not be hashed (unreadable input, missing pseudopotential)."""


@dataclass(frozen=True)
class HashedInputs:
    """The normalised inputs of one run and their sha256 digest (hex)."""

    code: str
    normalised_input: str
    pseudo_checksums: tuple[tuple[str, str], ...]
    parent_files: tuple[str, ...]
    parent_system: str = ""
    parent_basis: str = ""

    @property
    def material(self) -> str:
        """The exact text that is hashed; diffs between runs are made on this text."""
        lines = [f"# code {self.code}", self.normalised_input.rstrip("\n")]
        lines += [f"# pseudo {name} sha256 {digest}" for name, digest in self.pseudo_checksums]
        lines += [f"# parent file {name}" for name in self.parent_files]
        if self.parent_system:
            lines.append(f"{PARENT_SYSTEM_PREFIX}{self.parent_system}")
        if self.parent_basis:
            lines.append(f"{PARENT_BASIS_PREFIX}{self.parent_basis}")
        return "\n".join(lines) + "\n"

    @property
    def digest(self) -> str:
        """sha256 hex digest of :attr:`material`."""
        return hashlib.sha256(self.material.encode()).hexdigest()


CHARGE_DENSITY_PATTERN = "*charge-density.*"
UNHASHED_PARENT_PATTERNS = (CHARGE_DENSITY_PATTERN,)
"""Parent files whose *presence* is not hashed: the charge density.

Why: a 13-atom PAW density is ~10 MB, so a recording keeps it only when asked
(``JANUS_MOCK_SKIP_CHARGE_DENSITY`` leaves it out). A step downstream of a recording
that kept it (the real chain when it was recorded) and downstream of one that did not
(its replay) must hash alike, or every chained replay would need a 10 MB parent. What
this gives up: a workflow change that copies a parent's ``data-file-schema.xml`` but not
its density into a child's folder still replays green, although the real pw.x child
would go on from atomic densities (``parent_reads`` module docstring); aiida-quantumespresso
copies a parent's whole ``out/`` folder, so the two travel together."""


def _is_unhashed_parent_line(line: str) -> bool:
    """Whether a stored material's line names a parent file no longer hashed."""
    prefix = "# parent file "
    if not line.startswith(prefix):
        return False
    return is_unhashed_parent(line[len(prefix) :].rsplit("/", 1)[-1])


def is_unhashed_parent(name: str) -> bool:
    """Whether a parent file of this base name is left out of the hash."""
    return any(fnmatch.fnmatch(name, pattern) for pattern in UNHASHED_PARENT_PATTERNS)


def unsigned_zeros(line: str) -> str:
    """``-0.0000000000`` (and ``-0.0d0``) written as `` 0.0000000000``: the same number.

    Why: a coordinate that is zero up to rounding noise (±1e-17 from a rotation or a
    primitive-cell reduction) prints as ``-0.0000000000`` or ``0.0000000000`` depending on
    the numpy/spglib build; on 2026-12-06 a fresh venv flipped the sign of two zeros of the
    CsPbI3 reference cell and its recording missed. pw.x reads both as 0. The sign becomes
    a blank, not nothing, because the writers right-align numbers in fixed-width fields:
    a positive zero takes the minus sign's column as a blank.
    """
    return _SIGNED_ZERO.sub(r" \1", line)


def renormalised_material(material: str) -> str:
    """A stored hash material with the current normalisation of its input lines.

    The ``# code``/``# pseudo``/``# parent`` lines of :attr:`HashedInputs.material` are left
    as they are (the input normalisation never applies to them), except that a parent file
    no longer hashed (:data:`UNHASHED_PARENT_PATTERNS`) is dropped: this is how a recording
    made before a normalisation change is re-keyed (``scripts/rekey_mock_store.py``) and
    how a test finds one that was not.
    """
    lines = [line for line in material.split("\n") if not _is_unhashed_parent_line(line)]
    return "\n".join(line if line.startswith("# ") else unsigned_zeros(line) for line in lines)


def normalise_input(text: str) -> str:
    """Drop volatile lines (paths, wall-time limits), trailing blanks and blank lines;
    write signed zeros unsigned (:func:`unsigned_zeros`)."""
    kept = [unsigned_zeros(line.rstrip()) for line in text.splitlines()]
    return "\n".join(line for line in kept if line and not _VOLATILE_LINE.match(line)) + "\n"


def referenced_pseudos(text: str) -> list[str]:
    """File names listed in the ``ATOMIC_SPECIES`` card (empty for post-processing codes)."""
    names: list[str] = []
    in_species = False
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        card = words[0].upper()
        if card == "ATOMIC_SPECIES":
            in_species = True
            continue
        if card in _CARD_NAMES or words[0].startswith(("&", "/")):
            in_species = False
            continue
        if in_species and len(words) >= 3:
            names.append(words[2])
    return names


def pseudo_checksum(path: Path) -> str:
    """sha256 of a pseudopotential file with ld1.x's generation date masked."""
    text = path.read_text(errors="replace")
    text = _UPF_DATE_LINE.sub("Generation date:", _UPF_DATE_ATTRIBUTE.sub('date=""', text))
    return hashlib.sha256(text.encode()).hexdigest()


def pseudo_directory(text: str, workdir: Path) -> Path:
    """The ``pseudo_dir`` of an input, relative to ``workdir`` (``workdir`` itself if unset)."""
    match = _PSEUDO_DIR.search(text)
    return workdir / match.group(1) if match else workdir


def is_transient(relative_path: str) -> bool:
    """Whether a file is scratch or wavefunction data, neither hashed nor recorded by default."""
    patterns = TRANSIENT_PATTERNS + WAVEFUNCTION_PATTERNS
    return any(fnmatch.fnmatch(relative_path, pattern) for pattern in patterns)


def parent_file_names(workdir: Path, exclude: Iterable[Path]) -> tuple[str, ...]:
    """Relative names of the files present before the run, minus inputs, scratch and the
    charge density (:data:`UNHASHED_PARENT_PATTERNS`)."""
    excluded = {path.resolve() for path in exclude}
    names = []
    for path in sorted(workdir.rglob("*")):
        if not path.is_file() or path.resolve() in excluded:
            continue
        relative = path.relative_to(workdir).as_posix()
        if not is_transient(relative) and not is_unhashed_parent(path.name):
            names.append(relative)
    return tuple(names)


_XML_ATOM = re.compile(r'<atom name="([^"]+)"[^>]*>\s*([^<]+)</atom>')
_XML_CELL_VECTOR = re.compile(r"<a[123]>([^<]+)</a[123]>")
_XML_FFT_GRID = re.compile(r'<fft_grid nr1="(\d+)" nr2="(\d+)" nr3="(\d+)"')
POSITION_DECIMALS = 3
CUTOFF_DECIMALS = 6
PARENT_SYSTEM_PREFIX = "# parent system sha256 "
PARENT_BASIS_PREFIX = "# parent basis "
PARENT_DOCUMENT_PATTERN = "*/*.save/data-file-schema.xml"
"""Where a parent run keeps its XML, relative to the child's working directory."""


def parent_document(workdir: Path) -> str:
    """The text of the parent run's ``data-file-schema.xml`` in ``workdir``; "" without one."""
    documents = sorted(workdir.glob(PARENT_DOCUMENT_PATTERN))
    return documents[0].read_text(errors="replace") if documents else ""


def _output_structure(document: str) -> str:
    """The last ``<atomic_structure>`` element: the output one (the input's comes first)."""
    structure = document[document.rfind("<atomic_structure") :]
    return structure[: structure.find("</atomic_structure>")]


def system_digest(document: str) -> str:
    """sha256 of a parent's species and rounded positions (bohr); "" for no document."""
    if not document:
        return ""
    atoms = []
    for name, position in _XML_ATOM.findall(_output_structure(document)):
        values = " ".join(f"{float(x):.{POSITION_DECIMALS}f}" for x in position.split())
        atoms.append(f"{name} {values}")
    return hashlib.sha256("\n".join(atoms).encode()).hexdigest()


def _unsigned_fixed(text: str) -> str:
    """A length to 1e-3 bohr with no sign on a zero (``-0.000`` from ±1e-17 noise, as in
    :func:`unsigned_zeros`)."""
    return f"{round(float(text), POSITION_DECIMALS) + 0.0:.{POSITION_DECIMALS}f}"


def output_section(document: str) -> str:
    """The ``<output>`` element onwards: what the run computed, not what it was asked."""
    return document[document.find("<output>") :]


def _output_number(output: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>\s*([^<\s]+)\s*</{tag}>", output)
    return match.group(1) if match else None


def parent_basis(document: str) -> str:
    """One clear-text line of the parent's basis: cell vectors (bohr, 1e-3), ``ecutwfc``
    and ``ecutrho`` (Ha, 1e-6), the dense FFT grid and ``gamma_only`` (Γ tricks keep half
    the G-vectors), from the ``<output>`` section; "" for no document. Clear text, so that
    a miss's diff names the cutoff that differs.

    Not hashed: the parent's bands and k-points. Its own key covers them when the parent
    changes; what is given up is telling apart two *stored* parents of the same atoms and
    basis that differ only there (an SCF and its NSCF), which a pipeline never gives the
    same post-processing input. Leaving them out is also what lets
    :mod:`workflows.mock.rekey` find a stored child's parent from the child's own output.
    """
    if not document:
        return ""
    output = output_section(document)
    parts = []
    vectors = _XML_CELL_VECTOR.findall(_output_structure(document))
    if vectors:
        cell = " / ".join(" ".join(map(_unsigned_fixed, vector.split())) for vector in vectors)
        parts.append(f"cell {cell} bohr")
    for tag in ("ecutwfc", "ecutrho"):
        value = _output_number(output, tag)
        if value is not None:
            parts.append(f"{tag} {float(value):.{CUTOFF_DECIMALS}f} Ha")
    grid = _XML_FFT_GRID.search(output)
    if grid:
        parts.append("FFT " + "x".join(grid.groups()))
    gamma_only = re.search(r"<gamma_only>\s*(\w+)\s*</gamma_only>", output)
    if gamma_only:
        parts.append(f"gamma_only {gamma_only.group(1).lower()}")
    return "; ".join(parts)


def hash_inputs(
    code: str, input_text: str, workdir: Path, exclude: Iterable[Path] = ()
) -> HashedInputs:
    """Hash the inputs of a run of ``code`` about to start in ``workdir``.

    ``exclude`` lists files that are not parents (the input file, the file our stdout
    is redirected to). Pseudopotentials are looked up in the input's ``pseudo_dir``
    relative to ``workdir``; their folder is excluded from the parent names.
    """
    pseudo_dir = pseudo_directory(input_text, workdir)
    checksums = []
    for name in referenced_pseudos(input_text):
        path = pseudo_dir / name
        if not path.is_file():
            raise InputHashingError(
                f"pseudopotential {name!r} named in ATOMIC_SPECIES is not in {pseudo_dir}: "
                "the mock hashes pseudo files, so they must be present as for the real code"
            )
        checksums.append((name, pseudo_checksum(path)))
    pseudo_files = [pseudo_dir / name for name, _ in checksums]
    parents = parent_file_names(workdir, [*exclude, *pseudo_files])
    document = "" if code == "pw.x" else parent_document(workdir)
    return HashedInputs(
        code,
        normalise_input(input_text),
        tuple(checksums),
        parents,
        system_digest(document),
        parent_basis(document),
    )
