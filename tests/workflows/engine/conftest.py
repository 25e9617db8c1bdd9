"""Fixtures of the engine tests."""

from __future__ import annotations

import pytest

from workflows.engine import repairs as engine_repairs

TASKS = tuple(engine_repairs.WRAPPERS)


@pytest.fixture
def restore_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test installs on aiida-core's task functions is undone after it."""
    from aiida.engine.daemon import execmanager
    from aiida.engine.processes.calcjobs import tasks

    for name in TASKS:
        monkeypatch.setattr(tasks, name, getattr(tasks, name))
    monkeypatch.setattr(execmanager, engine_repairs.SUBMIT, execmanager.submit_calculation)
