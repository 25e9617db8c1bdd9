"""Generate, repair and validate pslibrary pseudopotentials offline with ``ld1.x``.

pslibrary 1.0.0 (A. Dal Corso, Comput. Mater. Sci. 95, 337 (2014); GPL-2) ships ld1.x
inputs, not UPF files; ``profiles/pseudos/{paw,nc}`` keeps the ones this project needs.
Three repairs make the files usable and reproducible with Debian's QE 6.7:

* QE 6.7's UPF reader rejects lines over 1000 characters (``xmlr_opentag: line too
  long``); ld1.x writes such numeric lines in every PAW file. Only numeric data lines are
  re-wrapped; tag lines are left alone.
* ld1.x stamps the generation date into the file. It is replaced by a fixed string so
  the same input always gives byte-identical files (AiiDA deduplicates pseudos by
  checksum and the mock codes hash them).
* Each file is validated: element, positive valence, UPF version and readability.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_UPF_LINE = 1000
VALUES_PER_LINE = 4
_NUMERIC_LINE = re.compile(r"^[\s0-9eEdD+\-.]+$")
_DATE_ATTRIBUTE = re.compile(r'date="[^"]*"')
_DATE_LINE = re.compile(r"(Generation date:).*")
FIXED_DATE = "pslibrary-1.0.0"


class PseudoGenerationError(RuntimeError):
    """ld1.x failed or wrote an unusable pseudopotential."""


@dataclass(frozen=True)
class UpfSummary:
    """What a UPF file declares about itself.

    Cutoffs are the generator's suggested minimum (Ry); 0 means none stated (NC files).
    """

    path: Path
    element: str
    pseudo_type: str
    z_valence: float
    wfc_cutoff_ry: float
    rho_cutoff_ry: float


def wrap_long_lines(text: str, max_length: int = MAX_UPF_LINE) -> str:
    """Re-wrap numeric lines longer than ``max_length`` characters, four values a line."""
    out: list[str] = []
    for line in text.splitlines():
        if len(line) > max_length and _NUMERIC_LINE.match(line):
            values = line.split()
            out.extend(
                "  " + " ".join(values[i : i + VALUES_PER_LINE])
                for i in range(0, len(values), VALUES_PER_LINE)
            )
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def make_reproducible(text: str) -> str:
    """Replace the generation date stamped by ld1.x with a fixed string."""
    text = _DATE_ATTRIBUTE.sub(f'date="{FIXED_DATE}"', text)
    return _DATE_LINE.sub(rf"\1 {FIXED_DATE}", text)


def _header_attribute(text: str, name: str) -> str:
    match = re.search(rf'\b{name}="\s*([^"]*)"', text)
    if match is None:
        raise PseudoGenerationError(f"UPF header has no {name!r} attribute")
    return match.group(1).strip()


def summarise_upf(path: Path) -> UpfSummary:
    """Parse and validate the PP_HEADER of a UPF v2 file.

    Raises ``PseudoGenerationError`` naming the file and the defect when the file is not a
    UPF v2, has lines QE 6.7 cannot read, or declares a non-positive valence.
    """
    text = path.read_text()
    if "<UPF version=" not in text or "<PP_HEADER" not in text:
        raise PseudoGenerationError(f"{path}: not a UPF v2 file (no <UPF>/<PP_HEADER>)")
    too_long = [n for n, line in enumerate(text.splitlines(), 1) if len(line) > MAX_UPF_LINE]
    if too_long:
        raise PseudoGenerationError(
            f"{path}: line {too_long[0]} is longer than {MAX_UPF_LINE} characters, which QE 6.7 "
            "rejects; regenerate it with `aiida-janus setup` (it re-wraps such lines)"
        )
    header = text[text.index("<PP_HEADER") :]
    summary = UpfSummary(
        path=path,
        element=_header_attribute(header, "element"),
        pseudo_type=_header_attribute(header, "pseudo_type"),
        z_valence=float(_header_attribute(header, "z_valence")),
        wfc_cutoff_ry=float(_header_attribute(header, "wfc_cutoff")),
        rho_cutoff_ry=float(_header_attribute(header, "rho_cutoff")),
    )
    if summary.z_valence <= 0:
        raise PseudoGenerationError(
            f"{path}: z_valence = {summary.z_valence} is not positive (a broken pslibrary "
            "variant, e.g. low/Cs spnl); use another input for this element"
        )
    return summary


def _output_name(ld1_input: str) -> str:
    match = re.search(r"file_pseudopw\s*=\s*'([^']+)'", ld1_input)
    if match is None:
        raise PseudoGenerationError("ld1.x input has no file_pseudopw = '...'")
    return match.group(1)


def generate_upf(ld1_input: Path, target_dir: Path, ld1_executable: str = "ld1.x") -> Path:
    """Run ld1.x on one pslibrary input and write the repaired UPF into ``target_dir``.

    Idempotent: an existing valid file is kept.
    """
    name = _output_name(ld1_input.read_text())
    target = target_dir / name
    if target.exists():
        try:
            summarise_upf(target)
            return target
        except PseudoGenerationError:
            target.unlink()
    if shutil.which(ld1_executable) is None:
        raise PseudoGenerationError(
            f"{ld1_executable} not found: install Quantum ESPRESSO "
            "(`apt-get install quantum-espresso`) or run `aiida-janus setup` as root"
        )
    with tempfile.TemporaryDirectory(prefix="janus-ld1-") as tmp:
        result = subprocess.run(
            [ld1_executable],
            stdin=ld1_input.open(),
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        produced = Path(tmp) / name
        if result.returncode != 0 or not produced.exists():
            raise PseudoGenerationError(
                f"ld1.x failed on {ld1_input.name} (exit {result.returncode}): "
                f"{result.stdout[-500:]}{result.stderr[-500:]}"
            )
        target_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(make_reproducible(wrap_long_lines(produced.read_text())))
    summarise_upf(target)
    return target


def generate_library(input_dir: Path, target_dir: Path) -> dict[str, UpfSummary]:
    """Generate every ``*.in`` of ``input_dir``; return the summaries keyed by element."""
    inputs = sorted(input_dir.glob("*.in"))
    if not inputs:
        raise PseudoGenerationError(f"no ld1.x inputs (*.in) found in {input_dir}")
    summaries = [summarise_upf(generate_upf(path, target_dir)) for path in inputs]
    return {summary.element: summary for summary in summaries}
