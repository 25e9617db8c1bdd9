"""Inputs ``janus.pipeline`` hands its steps from their own protocols (issue 24, item 6).

References: the step protocols read as plain YAML (``charge_densities.yaml``'s
``selection``, ``interface.yaml``/``aimd.yaml``'s ``dual``), the family's recommended
cutoffs, and hand arithmetic (ecutrho = dual × ecutwfc).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

PROTOCOLS = Path(__file__).parents[3] / "workflows" / "protocols"


def _protocol_value(name: str, protocol: str, *keys: str) -> Any:
    """A value of a step protocol (its ``protocols.<protocol>`` over ``default_inputs``)."""
    data = yaml.safe_load((PROTOCOLS / name).read_text())
    value: Any = None
    for source in (data["default_inputs"], data["protocols"][protocol]):
        for key in keys:
            source = source.get(key, {}) if isinstance(source, dict) else {}
        if source != {}:
            value = source
    return value


def _pipeline(codes: dict[str, Any], protocol: str) -> Any:
    from workflows.workchains.pipeline import PipelineWorkChain

    return PipelineWorkChain.get_builder_from_protocol(codes, "CsPbBr3", "CdS", protocol)


@pytest.mark.parametrize("protocol", ["fast", "stringent"])
def test_charge_density_selection_keeps_the_protocol_threshold(
    protocol: str, study_codes: dict[str, Any]
) -> None:
    """``stringent`` asks 70 % of a state on its domain; before, the pipeline's selection
    had no threshold and the step used DEFAULT_SELECTION's 0.5."""
    selection = _pipeline(study_codes, protocol).charge_densities.selection.get_dict()
    assert selection["threshold"] == _protocol_value(
        "charge_densities.yaml", protocol, "selection", "threshold"
    )
    assert selection["threshold"] == {"fast": 0.5, "stringent": 0.7}[protocol]
    assert selection["carrier"] == "electron"
    assert (selection["donor"], selection["acceptor"]) == ("perovskite", "chalcogenide")
    assert selection["k_index"] == "gamma"  # Γ-only MD and snapshots


def test_charge_density_selection_takes_a_callers_threshold(study_codes: dict[str, Any]) -> None:
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes,
        "CsPbBr3",
        "CdS",
        "balanced",
        overrides={"charge_densities": {"selection": {"threshold": 0.6}}},
    )
    assert builder.charge_densities.selection["threshold"] == 0.6


@pytest.mark.parametrize(("protocol", "dual"), [("balanced", 8.0), ("stringent", 10.0)])
def test_md_has_the_relaxation_cutoffs(
    protocol: str, dual: float, study_codes: dict[str, Any]
) -> None:
    """PAW MD and PAW relaxation share ecutwfc and ecutrho = dual × ecutwfc (the interface's
    dual), not the family's header ecutrho (637.6 Ry, pslibrary Cd PAW)."""
    from workflows.inputs.pw_builders import load_family

    builder = _pipeline(study_codes, protocol)
    md = builder.aimd.md.pw.parameters.get_dict()["SYSTEM"]
    relax = builder.interface.relax.pw.parameters.get_dict()["SYSTEM"]
    assert _protocol_value("interface.yaml", protocol, "dual") == dual
    assert _protocol_value("aimd.yaml", protocol, "dual") == dual
    assert (md["ecutwfc"], md["ecutrho"]) == (relax["ecutwfc"], relax["ecutrho"])
    assert md["ecutrho"] == pytest.approx(dual * md["ecutwfc"])
    elements = tuple(sorted(builder.interface.relax.pw.pseudos))  # kinds = elements here
    header = load_family("paw").get_recommended_cutoffs(elements=elements, unit="Ry")
    assert header[0] == pytest.approx(md["ecutwfc"])
    assert header[1] == pytest.approx(637.58, abs=0.01)
    assert md["ecutrho"] < header[1]


def test_fast_md_keeps_its_explicit_nc_cutoffs(study_codes: dict[str, Any]) -> None:
    """pipeline.yaml's ``fast`` gives the MD 30/120 Ry: given cutoffs win over the dual rule
    (the recorded fast MD inputs do not move)."""
    md = _pipeline(study_codes, "fast").aimd.md.pw.parameters.get_dict()["SYSTEM"]
    assert (md["ecutwfc"], md["ecutrho"]) == (30.0, 120.0)


def test_one_plane_domain_is_refused_before_any_step(study_codes: dict[str, Any]) -> None:
    """A one-plane CdS domain through the Python API: refused at build time, naming the
    override, instead of after the electronic step's SCF, NSCF, projwfc.x and pp.x (the
    ``run --structure`` refusal's rule, ``lineup_windows.one_plane_domains``). Reference:
    the builder's requested plane count (1), not the code's own plane count."""
    from workflows.workchains.pipeline import PipelineWorkChain

    thin = {"interface": {"interface": {"chalcogenide_planes": 1}}}
    with pytest.raises(ValueError, match=r"\['interface'\]\['chalcogenide_planes'\] to 2"):
        PipelineWorkChain.get_builder_from_protocol(
            study_codes, "CsPbBr3", "CdS", "fast", overrides=thin
        )
    periods = {"electronic": {"analysis": {"lineup_periods_ang": [3.6]}}}
    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes, "CsPbBr3", "CdS", "fast", overrides=thin | periods
    )
    assert builder.electronic.analysis["lineup_periods_ang"] == [3.6]


@pytest.mark.parametrize("protocol", ["fast", "balanced"])
def test_line_up_reference_scfs_get_their_own_per_atom_thresholds(
    protocol: str, study_codes: dict[str, Any]
) -> None:
    """The pipeline's strained bulk reference SCFs (route 2) get conv_thr and etot_conv_thr
    = aiida-quantumespresso's per-atom values × their OWN atoms; before, they got the
    interface's absolute values (13 or 26 atoms' worth on a 2- or 5-atom cell). Reference:
    the per-atom thresholds of the installed aiida-quantumespresso's protocol YAML."""
    from aiida.orm import StructureData

    from heterostructures.structure.interface import strained_bulk_units
    from heterostructures.structure.interface_spec import spec_with_lattices
    from tests.workflows.workchains.test_alignment import _protocol_thresholds_per_atom
    from workflows.inputs.lineup_references import reference_scf_inputs
    from workflows.protocols import namespace_inputs

    builder = _pipeline(study_codes, protocol)
    electronic = namespace_inputs(builder.electronic)
    per_atom = _protocol_thresholds_per_atom(protocol)
    assert electronic["thresholds_per_atom"].get_dict() == per_atom
    units = strained_bulk_units(spec_with_lattices(builder.interface.interface.get_dict(), {}))
    for side, unit in units.items():
        parameters = reference_scf_inputs(
            dict(electronic["scf"]),
            StructureData(ase=unit),
            electronic["thresholds_per_atom"].get_dict(),
        )["pw"]["parameters"].get_dict()
        for key, (namelist, name) in {
            "conv_thr_per_atom": ("ELECTRONS", "conv_thr"),
            "etot_conv_thr_per_atom": ("CONTROL", "etot_conv_thr"),
        }.items():
            expected = per_atom[key] * len(unit)
            assert parameters[namelist][name] == pytest.approx(expected, rel=1e-12), side
