"""Graphviz's ``dot`` for the report's provenance graph: installed with apt when we can, optional.

Without ``dot`` a report writes the graph as DOT source instead of drawing it
(:func:`workflows.provenance.report_figures.provenance_graph`), so a missing or failed
install never stops the set-up: it only says how to get the picture.
"""

from __future__ import annotations

import os
import shutil
import subprocess

APT_PACKAGE = "graphviz"
APT_TIMEOUT_S = 600
MANUAL_INSTALL = (
    "install it with `sudo apt-get install -y graphviz` to draw the report's provenance "
    "graph (without it the graph is written as DOT source)"
)


def _apt(*arguments: str) -> bool:
    """Run ``apt-get`` non-interactively; True when it succeeded."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(
            ["apt-get", *arguments],
            check=True,
            env=env,
            timeout=APT_TIMEOUT_S,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return False
    return True


def ensure_graphviz() -> str:
    """Make ``dot`` available if we can (apt, as root); one line saying what happened.

    Installs straight away and refreshes the package lists only when that fails, so a
    machine whose lists are current installs offline-fast and one without apt access
    only loses the picture.
    """
    if shutil.which("dot") is not None:
        return f"graphviz: `dot` found at {shutil.which('dot')}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"graphviz: `dot` not found; {MANUAL_INSTALL}"
    install = ("install", "-y", "-qq", "--no-install-recommends", APT_PACKAGE)
    if not _apt(*install) and not (_apt("update", "-qq") and _apt(*install)):
        return f"graphviz: apt-get could not install it; {MANUAL_INSTALL}"
    if shutil.which("dot") is None:
        return f"graphviz: installed but `dot` is not on PATH; {MANUAL_INSTALL}"
    return "graphviz: installed with apt-get"
