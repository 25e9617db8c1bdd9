"""How far a running pw.x (QE 6.x) has got, from the tail of its output: MD, BFGS, SCF steps.

Read by the live progress view while a job runs; only the last few kB of the output are
read, so the cost does not grow with the length of the run. The counters pw.x prints
carry their own number (``Entering Dynamics:    iteration =     5``, ``number of bfgs
steps    =   2``, ``iteration #  7``), so the last one in the tail is the count so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TAIL_BYTES = 32768
"""Bytes read from the end of the output: one MD step of a 100-atom model prints less."""
_MD_STEP = re.compile(r"Entering Dynamics:\s+iteration\s*=\s*(\d+)")
_BFGS_STEP = re.compile(r"number of bfgs steps\s*=\s*(\d+)")
_SCF_ITERATION = re.compile(r"iteration #\s*(\d+)")


@dataclass(frozen=True)
class PwProgress:
    """The last MD step, BFGS step and SCF iteration pw.x printed (None when absent)."""

    md_step: int | None
    bfgs_step: int | None
    scf_iteration: int | None

    def describe(self) -> str:
        """``MD step 5, SCF it 3`` or ``""`` when nothing was printed yet."""
        parts = []
        if self.md_step is not None:
            parts.append(f"MD step {self.md_step}")
        if self.bfgs_step is not None:
            parts.append(f"BFGS step {self.bfgs_step}")
        if self.scf_iteration is not None:
            parts.append(f"SCF it {self.scf_iteration}")
        return ", ".join(parts)


def _last(pattern: re.Pattern[str], text: str) -> int | None:
    matches = pattern.findall(text)
    return int(matches[-1]) if matches else None


def pw_progress(text: str) -> PwProgress:
    """The progress counters in a piece (usually the tail) of pw.x output."""
    return PwProgress(_last(_MD_STEP, text), _last(_BFGS_STEP, text), _last(_SCF_ITERATION, text))


def read_tail(path: Path, size: int = TAIL_BYTES) -> str:
    """The last ``size`` bytes of a text file (decoded leniently); ``""`` if it is missing."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
