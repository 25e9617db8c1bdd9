"""Load a script of ``benchmarks/`` or ``scripts/`` as a module, for its tests (neither
folder is a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = BENCHMARKS.parent / "scripts"


def load_script(file_name: str, module_name: str, folder: Path = BENCHMARKS) -> ModuleType:
    """``<folder>/<file_name>`` imported as ``module_name`` (kept in ``sys.modules``, where
    dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location(module_name, folder / file_name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
