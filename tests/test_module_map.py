"""The module map of DEVELOPERS.md is generated from the tree and must be up to date."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_developers_module_map_matches_the_tree() -> None:
    """Reference: the packages' own docstrings, read by ``scripts/module_map.py``."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "module_map.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
