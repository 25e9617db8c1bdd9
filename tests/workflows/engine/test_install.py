"""``workflows.engine.install``: where and when the engine repairs get installed.

Each case runs in a fresh interpreter, as a notebook, a plain ``verdi daemon worker`` or
the mock executable starts. Reference: aiida-core's task functions
(``engine/processes/calcjobs/tasks.py``) carry the repair's flag only once patched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workflows.engine import repairs as engine_repairs

REPO = Path(__file__).resolve().parents[3]
TASKS = tuple(engine_repairs.WRAPPERS)


def _in_fresh_interpreter(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_importing_janus_workchains_outside_a_worker_patches_nothing() -> None:
    """A notebook or script that loads every janus workchain and CalcJob leaves aiida-core
    as it is."""
    patched = _in_fresh_interpreter(
        "from importlib.metadata import entry_points\n"
        "for group in ('aiida.workflows', 'aiida.calculations'):\n"
        "    for e in entry_points(group=group):\n"
        "        e.load() if e.name.startswith('janus.') else None\n"
        "from aiida.engine.processes.calcjobs import tasks\n"
        "from aiida.engine import WorkChain\n"
        "from aiida.engine.daemon import execmanager\n"
        f"names = {list(TASKS)!r}\n"
        f"flag = {engine_repairs.INSTALLED_FLAG!r}\n"
        "print([getattr(getattr(tasks, n), flag, False) for n in names],"
        " hasattr(WorkChain.submit, '__wrapped__'),"
        " hasattr(execmanager.submit_calculation, '__wrapped__'))"
    )
    assert patched == "[False, False] False False"


def test_a_plain_verdi_worker_loading_only_a_janus_calcjob_gets_the_repairs() -> None:
    """A worker may continue a janus CalcJob (loaded by its entry point) before it has
    imported any janus workchain: the CalcJob's package installs the repairs too."""
    patched = _in_fresh_interpreter(
        "import sys\n"
        "sys.argv = ['/venv/bin/verdi', '-p', 'janus', 'daemon', 'worker']\n"
        "from aiida.plugins import CalculationFactory\n"
        "CalculationFactory('janus.pp_cube')\n"
        "from aiida.engine.processes.calcjobs import tasks\n"
        "from aiida.engine.daemon import execmanager\n"
        f"flag = {engine_repairs.INSTALLED_FLAG!r}\n"
        f"print([getattr(getattr(tasks, n), flag, False) for n in {list(TASKS)!r}],"
        " getattr(execmanager.submit_calculation, flag, False))"
    )
    assert patched == "[True, True] True"


def test_install_in_a_plain_verdi_worker_installs_the_repairs(
    restore_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import-time fallback: ``verdi daemon worker`` processes get the repairs."""
    from aiida.engine.processes.calcjobs import tasks

    monkeypatch.setattr(sys, "argv", ["/venv/bin/verdi", "-p", "janus", "daemon", "worker"])
    from aiida.engine.daemon import execmanager

    from workflows import engine

    assert engine.install() == [*TASKS, engine_repairs.SUBMIT]
    assert all(getattr(getattr(tasks, n), engine_repairs.INSTALLED_FLAG) for n in TASKS)
    assert getattr(execmanager.submit_calculation, engine_repairs.INSTALLED_FLAG)


def test_light_imports_stay_light() -> None:
    """The mock executable (one start per replayed job) must not pay for aiida.engine."""
    imported = _in_fresh_interpreter(
        "import sys, workflows.mock.executable\nprint('aiida.engine' in sys.modules)"
    )
    assert imported == "False"
