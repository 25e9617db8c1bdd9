"""Where aiida-janus keeps its state: one work folder, never the user's home by surprise.

The work folder holds the virtual environment (when made by the Makefile), the AiiDA
configuration (``AIIDA_PATH``), generated pseudopotentials and run scratch. It is
``$JANUS_WORK_DIR`` when set, else ``.work`` in the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROFILES_DIR = PROJECT_ROOT / "profiles"


def work_dir(create: bool = True) -> Path:
    """Return the work folder (created on demand unless ``create`` is False)."""
    path = Path(os.environ.get("JANUS_WORK_DIR", Path.cwd() / ".work")).resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def aiida_path(create: bool = True) -> Path:
    """Return the folder used as ``AIIDA_PATH`` (AiiDA writes ``.aiida/`` inside it)."""
    return work_dir(create) / "aiida"


def ensure_aiida_path() -> Path:
    """Point AiiDA at the project's own configuration unless the user chose one.

    Must run before ``aiida`` reads its configuration, i.e. before the first profile load.
    """
    path = Path(os.environ.setdefault("AIIDA_PATH", str(aiida_path())))
    path.mkdir(parents=True, exist_ok=True)
    return path
