"""The capped ``balanced`` pipeline end to end (issue 24, item 6): QE accepts every input.

``workflows/inputs/capped.py`` keeps every pw.x input kind of ``balanced`` (PAW, the
12 Å-vacuum slab with dipole correction, k-meshes, tetrahedra NSCF, Berendsen → NVE MD
with extrapolation, batched NA snapshots) and caps the work. References: each step's own
exit status (0, not a warning code) and the inputs the real calculations read.

Not run yet (no recording): once it has run here, add a twin on ``mock_code`` (the same
``_run_capped`` with ``mock_code`` codes) and record it with pw.x, projwfc.x and pp.x on
PATH (the batched NA snapshots need the wavefunctions):

    JANUS_MOCK_KEEP_WAVEFUNCTIONS=1 scripts/record_fixtures.sh \\
        'tests/workflows/workchains/test_capped_pipeline.py::<the twin>'
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


def _run_capped(
    codes: dict[str, InstalledCode],
    family: Callable[[str], CutoffsPseudoPotentialFamily],
    protocol: str,
) -> Any:
    """Run the capped pipeline of ``protocol`` serially; check every step and job."""
    from aiida import orm
    from aiida.engine import run_get_node

    from workflows.inputs.capped import capped_overrides
    from workflows.workchains.pipeline import PipelineWorkChain

    family("paw")
    family("nc")
    builder = PipelineWorkChain.get_builder_from_protocol(
        codes, "CsPbBr3", "CdS", protocol, overrides=capped_overrides(protocol)
    )
    _, node = run_get_node(_serial(builder))
    assert node.is_finished_ok, node.exit_message
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
    assert any(p.get("SYSTEM", {}).get("occupations") == "tetrahedra_opt" for p in read)
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
