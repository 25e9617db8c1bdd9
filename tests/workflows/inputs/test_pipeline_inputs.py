"""How ``janus.pipeline`` counts the occupied bands of a step's pw.x runs.

Reference: provenance graphs built by hand (a CalcJob with the outputs or inputs each kind
of pw.x job has), so the expected band is the electron count / 2 by hand arithmetic; the
pseudopotentials' ``z_valence`` are pslibrary's (Cd 12, S 6: the 18 electrons pw.x prints
for the CdS cell of ``tests/fixtures/qe67_wfc_cds_nc_gamma``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType

from workflows.inputs.pipeline_inputs import highest_occupied_band


def _job(
    caller: orm.WorkflowNode,
    outputs: dict[str, orm.Data],
    inputs: dict[str, orm.Data] | None = None,
) -> orm.CalcJobNode:
    node = orm.CalcJobNode(process_type="aiida.calculations:janus.snapshot_batch")
    node.base.links.add_incoming(caller, LinkType.CALL_CALC, "batch")
    for label, data in (inputs or {}).items():
        node.base.links.add_incoming(data.store(), LinkType.INPUT_CALC, label)
    node.store()
    for label, data in outputs.items():
        data.base.links.add_incoming(node, LinkType.CREATE, label)
        data.store()
    return node


def _frames(*counts: float | None) -> orm.Dict:
    return orm.Dict(
        {"frames": [{"position": i, "number_of_electrons": n} for i, n in enumerate(counts)]}
    )


def _cds_inputs(pseudo: Any, system: dict[str, Any] | None = None) -> dict[str, orm.Data]:
    trajectory = orm.TrajectoryData()
    cell = np.eye(3) * 5.0
    trajectory.set_trajectory(
        ["Cd", "S"],
        np.array([[[0, 0, 0], [1.25, 1.25, 1.25]]] * 2, dtype=float),
        cells=np.array([cell] * 2),
        pbc=[True, True, True],
    )
    return {
        "trajectory": trajectory,
        "parameters": orm.Dict(system or {"SYSTEM": {"ecutwfc": 25.0}}),
        "pseudos__Cd": pseudo("Cd", 12.0),
        "pseudos__S": pseudo("S", 6.0),
    }


@pytest.fixture
def upf(tmp_path: Any) -> Any:
    """A minimal UPF v2 file of ``element`` with ``z_valence`` (aiida-pseudo parses both)."""
    from aiida_pseudo.data.pseudo.upf import UpfData

    def make(element: str, z_valence: float) -> UpfData:
        path = tmp_path / f"{element}.upf"
        path.write_text(
            f'<UPF version="2.0.1">\n<PP_HEADER element="{element}" '
            f'z_valence="{z_valence}"/>\n</UPF>\n'
        )
        return UpfData(path)

    return make


def test_batch_frame_facts_give_the_band(aiida_profile: object) -> None:
    """Any frame with the count serves: a job resumed from one that predates the fact
    lacks it in its first frames (None there)."""
    step = orm.WorkflowNode().store()
    _job(step, {"frame_facts": _frames(None, 98.00000000000001, 98.0)})
    assert highest_occupied_band(step) == 49


def test_a_pw_job_without_its_count_is_passed_over(aiida_profile: object) -> None:
    """aiida-qe's PwParser gives output_parameters also to a pw.x stopped before its XML
    (no number_of_electrons): the next pw.x job of the step is read instead."""
    step = orm.WorkflowNode().store()
    _job(step, {"output_parameters": orm.Dict({"wall_time_seconds": 3.0})})
    _job(step, {"output_parameters": orm.Dict({"number_of_electrons": 58.0})})
    assert highest_occupied_band(step) == 29


def test_batch_without_the_fact_counts_its_pseudopotentials(
    aiida_profile: object, upf: Any
) -> None:
    """A job from before the fact: Σ z_valence over the trajectory's sites (12 + 6)."""
    step = orm.WorkflowNode().store()
    _job(step, {"frame_facts": _frames(None)}, _cds_inputs(upf))
    assert highest_occupied_band(step) == 9


@pytest.mark.parametrize(
    ("system", "homo"),
    [
        ({"SYSTEM": {"tot_charge": 2.0}}, 8),  # pw.x: a positive charge removes electrons
        ({"SYSTEM": {"tot_charge": -2.0}}, 10),
        ({"system": {"TOT_CHARGE": 2.0}}, 8),  # any case, as aiida-qe writes it for pw.x
    ],
)
def test_the_pseudopotential_count_takes_the_charge(
    aiida_profile: object, upf: Any, system: dict[str, Any], homo: int
) -> None:
    """Reference: hand count 12 + 6 − tot_charge, halved (pw.x's ``nelec``)."""
    step = orm.WorkflowNode().store()
    _job(step, {"frame_facts": _frames(None)}, _cds_inputs(upf, system))
    assert highest_occupied_band(step) == homo


def test_an_odd_count_or_no_pw_job_is_refused(aiida_profile: object) -> None:
    """No silent rounding (13 electrons have no spin-unpolarised gap); a step without a
    pw.x job names itself."""
    odd = orm.WorkflowNode().store()
    _job(odd, {"frame_facts": _frames(13.0)})
    with pytest.raises(ValueError, match="odd electron count 13"):
        highest_occupied_band(odd)
    empty = orm.WorkflowNode().store()
    with pytest.raises(ValueError, match=f"<{empty.pk}> ran no pw.x calculation"):
        highest_occupied_band(empty)
