"""The capped ``balanced`` pipeline end to end (issue 24, item 6): QE accepts every input.

``workflows/inputs/capped.py`` keeps every pw.x input kind of ``balanced`` (PAW, the
12 Å-vacuum slab with dipole correction, k-meshes, tetrahedra NSCF, Berendsen → NVE MD
with extrapolation, batched NA snapshots) and caps the work. References: each step's own
exit status (0, not a warning code) and the inputs the real calculations read.

The recording run is ``test_capped_balanced_recording``: with pw.x, projwfc.x and pp.x on
PATH it runs them through the recorder (2 MPI ranks) and stores each output under its
input hash. ``JANUS_MOCK_RECORD=missing`` records only what is not stored yet, so a
recording stopped part-way (a session's end) resumes at the first step not recorded, the
earlier ones replayed, unless that step reads its parent's files (an NSCF, projwfc.x,
pp.x, an MD restart chunk): a replayed parent has no wavefunctions, and the mock refuses
with one line naming the fix (remove the parent's recording, so both are recorded
together). The batched NA snapshots need the wavefunctions kept; no density need be
stored (its presence is not hashed):

    JANUS_MOCK_RECORD=missing JANUS_MOCK_MPI_RANKS=2 JANUS_MOCK_KEEP_WAVEFUNCTIONS=batch \\
        JANUS_MOCK_SKIP_CHARGE_DENSITY=1 scripts/record_fixtures.sh -s \\
        tests/workflows/workchains/test_capped_pipeline.py::test_capped_balanced_recording

What CI replays (``test_capped_on_mocks``) is every step recorded so far, and
never the NA snapshots: each NA frame of the 13-atom model keeps a ``wfc1.dat`` the batch
job's own overlap code reads in a replay: 24.1 MB measured for the first capped frame
(2026-12-06: NC 60/240 Ry, Γ, 57 bands; 5.8 MB of charge density besides), too much for
the fixture store, so those recordings are not committed. The batch job kind is replayed
in CI on small models (``test_na_snapshots_batched.py``); the capped frames' one end-to-end
run with real pw.x (2026-12-07, all 8 exit 0) is in DEVELOPERS.md. Capped ``stringent``
is recorded and replayed the same way (``test_capped_stringent_recording``,
``test_capped_on_mocks[stringent]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.workflows.workchains.test_pipeline import _serial

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

ACCEPTED_VC_RELAX_EXIT = 501
"""aiida-quantumespresso's 'converged except in the final SCF' of a vc-relax, accepted by
PwRelaxWorkChain (the bulk references)."""


def _failure_reports(node: Any) -> str:
    """The study's exit message, then every failed process below it with its exit status,
    message and report (what ``verdi process report`` shows), since the test profile is
    gone once pytest ends."""
    from aiida.cmdline.utils.common import get_workchain_report

    lines = [str(node.exit_message)]
    for failed in (n for n in node.called_descendants if n.is_failed):
        lines.append(
            f"{failed.process_label}<{failed.pk}> [{failed.exit_status}] {failed.exit_message}"
        )
        if hasattr(failed, "called"):
            lines.append(get_workchain_report(failed, "REPORT"))
    return "\n".join(lines)


def _run_capped(
    codes: dict[str, InstalledCode],
    family: Callable[[str], CutoffsPseudoPotentialFamily],
    protocol: str,
    skip: tuple[str, ...] = (),
) -> Any:
    """Run the capped pipeline of ``protocol`` serially, minus ``skip``; check every step
    and job."""
    from aiida import orm
    from aiida.engine import run_get_node

    from workflows.inputs.capped import capped_overrides
    from workflows.workchains.pipeline import PipelineWorkChain

    family("paw")
    family("nc")
    builder = PipelineWorkChain.get_builder_from_protocol(
        codes, "CsPbBr3", "CdS", protocol, overrides=capped_overrides(protocol)
    )
    if skip:
        builder.skip = orm.List(list(skip))
    _, node = run_get_node(_serial(builder))
    assert node.is_finished_ok, _failure_reports(node)
    for child in node.called:
        assert child.exit_status == 0, (child.process_label, child.pk, child.exit_status)
    jobs = [n for n in node.called_descendants if isinstance(n, orm.CalcJobNode)]
    bad = [
        (job.process_label, job.pk, job.exit_status)
        for job in jobs
        if job.exit_status not in (0, ACCEPTED_VC_RELAX_EXIT)
    ]
    assert not bad, bad
    read = [job.inputs.parameters.get_dict() for job in jobs if "parameters" in job.inputs]
    control = [p.get("CONTROL", {}) for p in read]
    assert any(c.get("dipfield") for c in control), "dipole correction read by pw.x"
    if "electronic" not in skip:
        assert any(p.get("SYSTEM", {}).get("occupations") == "tetrahedra_opt" for p in read)
    if "aimd" not in skip:
        temperatures = {p.get("IONS", {}).get("ion_temperature") for p in read}
        assert {"berendsen", "not_controlled"} <= temperatures
    return node


@pytest.mark.slow
@pytest.mark.real_qe
def test_capped_balanced_with_real_qe(
    real_code: Callable[[str], InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> None:
    """The capped ``balanced`` study with the real pw.x, projwfc.x and pp.x (hours on 2
    cores: an estimate, DEVELOPERS.md)."""
    codes = {name: real_code(f"{name}.x") for name in ("pw", "projwfc", "pp")}
    _run_capped(codes, pseudo_family, "balanced")


NOT_RECORDED_YET: dict[str, tuple[str, ...]] = {
    "balanced": (),
    "stringent": (),
}
"""Steps of each capped protocol whose recording is still to be made (a recording is
committed only with the successors that read its files): none of ``balanced`` since
2026-12-06 (every step but the NA snapshots, which are never committed, module
docstring), and none of ``stringent`` since 2026-12-07. A step listed here
is skipped by the CI twin."""


@pytest.mark.parametrize("protocol", sorted(NOT_RECORDED_YET))
def test_capped_on_mocks(
    protocol: str,
    mock_code: Callable[..., InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> None:
    """A capped study replayed from its recordings: every recorded step
    (:data:`NOT_RECORDED_YET`), never the NA snapshots (module docstring)."""
    codes = {name: mock_code(f"{name}.x") for name in ("pw", "projwfc", "pp")}
    _run_capped(codes, pseudo_family, protocol, skip=(*NOT_RECORDED_YET[protocol], "na"))


@pytest.mark.slow
def test_capped_balanced_recording(
    mock_code: Callable[..., InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> None:
    """The whole capped ``balanced`` study on mock codes: the recording run (module
    docstring); its NA frames are recorded anew each time (their wavefunctions are not
    committed)."""
    codes = {name: mock_code(f"{name}.x") for name in ("pw", "projwfc", "pp")}
    _run_capped(codes, pseudo_family, "balanced")


@pytest.mark.slow
def test_capped_stringent_recording(
    mock_code: Callable[..., InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> None:
    """The capped ``stringent`` study (the production model kind: 15 Å vacuum, dual 10,
    8 + 8 carrier bands) on mock codes: recorded as the ``balanced`` one is, with this
    test's id in the command of the module docstring."""
    codes = {name: mock_code(f"{name}.x") for name in ("pw", "projwfc", "pp")}
    _run_capped(codes, pseudo_family, "stringent")
