"""Shared pytest fixtures: a throw-away AiiDA profile, ``localhost``, real and mock QE codes.

The profile comes from aiida-core's own ``aiida.tools.pytest_fixtures`` (a temporary
SQLite profile without broker, created once per session); use ``aiida_profile_clean``
in a test that needs an empty database. Mock codes replay recordings from
``tests/fixtures/mock`` (see ``workflows.mock``); ``scripts/record_fixtures.sh`` runs
tests with ``JANUS_MOCK_RECORD=1`` so the same mock codes call the real QE and record.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from workflows.mock.codes import DEFAULT_STORE, calc_job_plugin, register_mock_code
from workflows.setup.codes import ROOT_MPI_ENV, ensure_code

if TYPE_CHECKING:
    from aiida.orm import Computer, InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

pytest_plugins = ["aiida.tools.pytest_fixtures"]

LOCALHOST_LABEL = "localhost"


def running_in_ci() -> bool:
    """CI sets ``CI=true``; there Quantum ESPRESSO must be installed, so absence fails."""
    return os.environ.get("CI", "").lower() == "true"


def require_executable(name: str) -> str:
    """Path of a QE executable; skip the test without QE, fail in CI where QE is required."""
    path = shutil.which(name)
    if path is not None:
        return path
    reason = f"{name} not on PATH: install Quantum ESPRESSO (apt-get install quantum-espresso)"
    if running_in_ci():
        pytest.fail(f"{reason}; CI must run the real-QE tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def janus_test_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session folder for job scratch (``scratch/``) and mock wrapper scripts (``bin/``)."""
    return tmp_path_factory.mktemp("janus")


@pytest.fixture(scope="session", autouse=True)
def own_record_lock(janus_test_dir: Path) -> None:
    """Recordings made by this test session queue on a lock of their own.

    Why: the recorder's default lock is machine-wide (``workflows.mock.record``); a real
    recording running beside the test suite would hold it, and the suite's record-mode
    tests (fake codes, a second each) would wait for it. An explicit
    ``JANUS_MOCK_RECORD_LOCK`` is kept.
    """
    os.environ.setdefault("JANUS_MOCK_RECORD_LOCK", str(janus_test_dir / "record.lock"))


@pytest.fixture
def localhost(aiida_profile: object, janus_test_dir: Path) -> Computer:
    """The ``localhost`` computer (core.local, core.direct), scratch under the session tmp."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import Computer, load_computer

    try:
        return load_computer(LOCALHOST_LABEL)
    except NotExistent:
        pass
    computer = Computer(
        label=LOCALHOST_LABEL,
        hostname="localhost",
        description="test localhost: jobs run directly, serially",
        transport_type="core.local",
        scheduler_type="core.direct",
        workdir=str(janus_test_dir / "scratch"),
    ).store()
    # Same environment as profiles/computer-localhost.yaml, so MPI codes run as root too.
    root_env = ROOT_MPI_ENV if os.geteuid() == 0 else ""
    computer.set_prepend_text(root_env + "export OMP_NUM_THREADS=1")
    computer.set_default_mpiprocs_per_machine(1)
    computer.configure(safe_interval=0.0)
    computer.set_minimum_job_poll_interval(0.0)
    return computer


@pytest.fixture
def real_code(localhost: Computer) -> Callable[[str], InstalledCode]:
    """Factory: ``real_code("pw.x")`` registers the system executable, serial (no MPI)."""

    def factory(name: str) -> InstalledCode:
        return ensure_code(
            localhost,
            f"real-{name}",
            require_executable(name),
            default_calc_job_plugin=calc_job_plugin(name),
            with_mpi=False,
        )

    return factory


@pytest.fixture
def mock_code(localhost: Computer, janus_test_dir: Path) -> Callable[..., InstalledCode]:
    """Factory: ``mock_code("pw.x", store=DEFAULT_STORE)`` replays recorded runs of pw.x."""

    def factory(name: str, store: Path = DEFAULT_STORE) -> InstalledCode:
        tag = hashlib.sha256(str(store.resolve()).encode()).hexdigest()[:8]
        label = f"mock-{name}" if store == DEFAULT_STORE else f"mock-{name}-{tag}"
        return register_mock_code(name, localhost, janus_test_dir / "bin" / tag, store, label)

    return factory


@pytest.fixture
def pseudo_family(aiida_profile: object) -> Callable[[str], CutoffsPseudoPotentialFamily]:
    """Factory: ``pseudo_family("nc")`` installs the pslibrary family (ld1.x, cached)."""
    from workflows.setup.pseudos import install_pseudo_family

    def factory(flavour: str = "paw") -> CutoffsPseudoPotentialFamily:
        require_executable("ld1.x")
        return install_pseudo_family(flavour)

    return factory


@pytest.fixture
def study_codes(
    mock_code: Callable[..., InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> dict[str, InstalledCode]:
    """Mock pw.x, projwfc.x and pp.x keyed as the pipeline builders expect them (``pw``,
    ``projwfc``, ``pp``), with both pseudopotential families (PAW for the bulk references,
    NC for the interface steps)."""
    pseudo_family("paw")
    pseudo_family("nc")
    return {name: mock_code(f"{name}.x") for name in ("pw", "projwfc", "pp")}


@pytest.fixture
def mock_codes(
    mock_code: Callable[..., InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> dict[str, InstalledCode]:
    """Mock pw.x, projwfc.x and pp.x, with the NC family installed."""
    pseudo_family("nc")
    return {name: mock_code(name) for name in ("pw.x", "projwfc.x", "pp.x")}
