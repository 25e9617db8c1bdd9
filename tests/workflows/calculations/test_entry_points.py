"""``aiida.calculations`` entry points of the janus CalcJobs.

Stored nodes record their process type as the entry point string; ``load_node`` and
``verdi process show`` resolve it back to the class through the entry point, so a
module move must not strand them.
"""

from __future__ import annotations

import pytest

ENTRY_POINTS = {
    "janus.projwfc_raw": ("workflows.calculations.projwfc_raw", "RawProjwfcCalculation"),
    "janus.pp_cube": ("workflows.calculations.pp_cube", "CubePpCalculation"),
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_entry_point_loads_the_calcjob(name: str) -> None:
    """CalculationFactory gives the class; the class maps back to the same entry point."""
    from aiida.plugins import CalculationFactory
    from aiida.plugins.entry_point import get_entry_point_string_from_class

    calculation = CalculationFactory(name)
    module, class_name = ENTRY_POINTS[name]
    assert (calculation.__module__, calculation.__name__) == (module, class_name)
    assert get_entry_point_string_from_class(module, class_name) == f"aiida.calculations:{name}"


def test_stored_node_process_type_resolves_to_the_class(aiida_profile: object) -> None:
    """A node's ``process_type`` (what ``load_node`` reads back) names the entry point."""
    from aiida.orm import CalcJobNode, load_node

    from workflows.calculations.pp_cube import CubePpCalculation

    node = CalcJobNode(process_type=CubePpCalculation.build_process_type()).store()
    assert node.process_type == "aiida.calculations:janus.pp_cube"
    assert load_node(node.pk).process_class is CubePpCalculation
