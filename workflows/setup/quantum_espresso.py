"""Make sure the Quantum ESPRESSO executables are there (Debian's ``quantum-espresso``)."""

from __future__ import annotations

import os
import shutil
import subprocess

QE_EXECUTABLES = ("pw.x", "projwfc.x", "pp.x", "dos.x", "ld1.x")
APT_PACKAGES = ("quantum-espresso", "openmpi-bin")


class QuantumEspressoMissingError(RuntimeError):
    """QE is absent and cannot be installed by us."""


def missing_executables() -> list[str]:
    """QE executables not found on PATH."""
    return [name for name in QE_EXECUTABLES if shutil.which(name) is None]


def ensure_quantum_espresso() -> None:
    """Install QE with apt when missing and running as root; else say what to install."""
    missing = missing_executables()
    if not missing:
        return
    if os.geteuid() != 0:
        raise QuantumEspressoMissingError(
            f"{', '.join(missing)} not found: install Quantum ESPRESSO with "
            "`sudo apt-get install -y quantum-espresso`, then re-run `aiida-janus setup`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], check=True, env=env)
    still_missing = missing_executables()
    if still_missing:
        raise QuantumEspressoMissingError(f"apt installed QE but {still_missing} are still missing")
