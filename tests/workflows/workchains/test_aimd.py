"""``janus.aimd``: input checks before submission and a tiny real pw.x run end to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from aiida.orm import InstalledCode, StructureData
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

# Tiny and cheap: 25 Ry, 2x2x2 k (kpoints_distance 1.0 Å⁻¹), ~0.3 s per MD step.
TINY_PW = {
    "kpoints_distance": 1.0,
    "pw": {"parameters": {"SYSTEM": {"ecutwfc": 25.0, "ecutrho": 100.0}}},
}


def _cds(sulfur_ang: tuple[float, float, float] = (1.5575, 1.4575, 1.4575)) -> StructureData:
    """Zinc-blende CdS (a = 5.83 Å) with S at ``sulfur_ang``; the default is 0.1 Å off-site."""
    from aiida.orm import StructureData

    structure = StructureData(cell=[[0.0, 2.915, 2.915], [2.915, 0.0, 2.915], [2.915, 2.915, 0.0]])
    structure.append_atom(position=(0.0, 0.0, 0.0), symbols="Cd")
    structure.append_atom(position=sulfur_ang, symbols="S")
    return structure


def _builder(code: InstalledCode, structure: StructureData, family: str, **overrides: Any) -> Any:
    from workflows.workchains.aimd import AimdWorkChain

    return AimdWorkChain.get_builder_from_protocol(
        code,
        structure,
        protocol="fast",
        overrides={"md": TINY_PW, **overrides},
        pseudo_family=family,
    )


def _validation_error(builder: Any) -> str | None:
    from workflows.inputs.aimd_checks import validate_aimd_inputs

    inputs = {name: builder[name] for name in builder}
    return validate_aimd_inputs(inputs)


@pytest.fixture
def nc_family(pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily]) -> str:
    return pseudo_family("nc").label


@pytest.fixture
def pw_code(real_code: Callable[[str], InstalledCode]) -> InstalledCode:
    return real_code("pw.x")


def test_protocol_builder_passes_validation(pw_code: InstalledCode, nc_family: str) -> None:
    builder = _builder(pw_code, _cds(), nc_family)
    assert builder.temperature.value == 300.0
    assert builder.timestep_fs.value == 1.0
    assert _validation_error(builder) is None


@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_every_protocol_extrapolates_and_bounds_the_drift(
    pw_code: InstalledCode, nc_family: str, protocol: str
) -> None:
    """Issue 24: second-order extrapolation (QE 6.7 input names, applied to MD only), empty
    states converged like occupied ones, a positive drift bound and empty bands."""
    from workflows.workchains.aimd import AimdWorkChain

    builder = AimdWorkChain.get_builder_from_protocol(
        pw_code, _cds(), protocol=protocol, overrides={"md": TINY_PW}, pseudo_family=nc_family
    )
    parameters = builder.md.pw.parameters.get_dict()
    assert parameters["IONS"]["pot_extrapolation"] == "second_order"
    assert parameters["IONS"]["wfc_extrapolation"] == "second_order"
    assert parameters["ELECTRONS"]["diago_full_acc"] is True
    assert builder.max_drift_ev_per_atom_per_ps.value > 0
    assert builder.empty_bands.value >= 6, "the fast NA window reaches LUMO+5"


def test_timestep_and_drift_bound_are_protocol_overrides(
    pw_code: InstalledCode, nc_family: str
) -> None:
    builder = _builder(
        pw_code, _cds(), nc_family, timestep_fs=0.5, max_drift_ev_per_atom_per_ps=0.002
    )
    assert builder.timestep_fs.value == 0.5
    assert builder.max_drift_ev_per_atom_per_ps.value == 0.002
    assert _validation_error(builder) is None
    builder = _builder(pw_code, _cds(), nc_family, max_drift_ev_per_atom_per_ps=0.0)
    assert "max_drift_ev_per_atom_per_ps must be > 0" in (_validation_error(builder) or "")


def test_snapshot_window_is_an_optional_override(pw_code: InstalledCode, nc_family: str) -> None:
    """Absent by default (no cache hash moves); bounded by the NVE time when given."""
    assert "snapshot_window_fs" not in _builder(pw_code, _cds(), nc_family)
    builder = _builder(pw_code, _cds(), nc_family, snapshot_window_fs=10.0)
    assert builder.snapshot_window_fs.value == 10.0
    assert _validation_error(builder) is None
    too_long = builder.production_time_fs.value + 1.0
    builder = _builder(pw_code, _cds(), nc_family, snapshot_window_fs=too_long)
    assert "snapshot_window_fs must be in (0, production_time_fs" in (
        _validation_error(builder) or ""
    )


@pytest.mark.parametrize(
    ("overrides", "sulfur_ang", "message"),
    [
        ({"temperature": -5.0}, (1.5, 1.5, 1.5), "temperature must be > 0"),
        ({"timestep_fs": 8.0}, (1.5, 1.5, 1.5), "sane range"),
        ({}, (0.2, 0.1, 0.0), "overlapping atoms"),
        ({"max_walltime_seconds": 30}, (1.5, 1.5, 1.5), "shorter than one MD step"),
        ({"thermostat": "nose"}, (1.5, 1.5, 1.5), "thermostat must be one of"),
    ],
)
def test_bad_input_is_rejected_before_submission(
    pw_code: InstalledCode,
    nc_family: str,
    overrides: dict[str, Any],
    sulfur_ang: tuple[float, float, float],
    message: str,
) -> None:
    builder = _builder(pw_code, _cds(sulfur_ang), nc_family, **overrides)
    error = _validation_error(builder)
    assert error is not None
    assert message in error


@pytest.mark.real_qe
@pytest.mark.slow  # ~50 s, mostly AiiDA job polling for three chunks
def test_heat_then_nve_in_restarted_chunks(pw_code: InstalledCode, nc_family: str) -> None:
    """2 fs Berendsen + 3 fs NVE, at most 2 steps per job: 3 chunks, 2 of them restarts."""
    _check_heat_then_nve(pw_code, nc_family)


def test_heat_then_nve_replayed_on_mock(
    mock_code: Callable[..., InstalledCode], nc_family: str
) -> None:
    """The same three chunks replayed from recordings of the real pw.x runs."""
    _check_heat_then_nve(mock_code("pw.x"), nc_family)


def _run_five_steps(
    code: InstalledCode, nc_family: str, thermostat: str, **overrides: Any
) -> tuple[Any, Any]:
    """2 fs of heating + 3 fs of NVE on CdS in 60 s jobs of 20 s steps: three chunks."""
    from aiida.engine import run_get_node

    builder = _builder(
        code,
        _cds(),
        nc_family,
        thermostat=thermostat,
        **overrides,
        equilibration_time_fs=2.0,
        production_time_fs=3.0,
        max_walltime_seconds=60,
        seconds_per_step=20.0,
        setup_seconds=0.0,
    )
    builder.md.pw.metadata.options.withmpi = False
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    return results, node


def _check_heat_then_nve(code: InstalledCode, nc_family: str) -> None:
    from aiida.orm import CalcJobNode

    results, node = _run_five_steps(code, nc_family, "berendsen")
    trajectory = results["trajectory"]
    assert trajectory.get_stepids().tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(trajectory.get_times(), np.arange(5) * 1.0, atol=1e-3)
    # Berendsen draws velocities at 300 K; 2 atoms carry 3 dof (3N − 3).
    assert trajectory.get_array("temperature")[0] == pytest.approx(300.0, rel=0.02)
    assert np.abs(trajectory.get_array("velocities")).max() > 1e-4
    pw_runs = [n for n in node.called_descendants if isinstance(n, CalcJobNode)]
    modes = sorted(n.inputs.parameters["CONTROL"]["restart_mode"] for n in pw_runs)
    assert modes == ["from_scratch", "restart", "restart"]
    diagnostics = results["diagnostics"].get_dict()
    assert diagnostics["n_frames"] == 3
    assert abs(diagnostics["drift_ev_per_atom_per_ps"]) < 1.0
    assert results["snapshots"]["frame_indices"] == [2, 3, 4]
    _check_extrapolated_steps_with_band_energies(pw_runs, results)


CDS_OCCUPIED_BANDS = 9  # 18 valence electrons (Cd 12, S 6) with the NC pseudos


def _check_extrapolated_steps_with_band_energies(pw_runs: list[Any], results: Any) -> None:
    """Issue 24: every chunk extrapolates; every step's energies come out, 8 empty bands."""
    for run in pw_runs:
        ions = run.inputs.parameters["IONS"]
        assert (ions["pot_extrapolation"], ions["wfc_extrapolation"]) == ("second_order",) * 2
        assert run.inputs.parameters["SYSTEM"]["nbnd"] == CDS_OCCUPIED_BANDS + 8
    bands = results["band_energies"]
    assert bands.get_array("steps").tolist() == [0, 1, 2, 3, 4]
    eigenvalues = bands.get_array("eigenvalues_ev")
    assert eigenvalues.shape[0] == 5
    assert eigenvalues.shape[2] == CDS_OCCUPIED_BANDS + 8
    assert np.all(np.diff(eigenvalues, axis=2) >= 0), "pw.x prints bands in ascending order"
    diagnostics = results["diagnostics"].get_dict()
    assert diagnostics["drift_within_bound"] is (
        abs(diagnostics["drift_ev_per_atom_per_ps"])
        <= diagnostics["drift_bound_ev_per_atom_per_ps"]
    )


def test_drift_above_the_bound_is_flagged_and_reported(
    mock_code: Callable[..., InstalledCode], nc_family: str
) -> None:
    """The same recorded chunks with a bound below their drift: flagged, with the fix."""
    from aiida.cmdline.utils.common import get_workchain_report

    results, node = _run_five_steps(
        mock_code("pw.x"), nc_family, "berendsen", max_drift_ev_per_atom_per_ps=1e-9
    )
    diagnostics = results["diagnostics"].get_dict()
    assert diagnostics["drift_within_bound"] is False
    assert "use a smaller timestep_fs" in diagnostics["drift_note"]
    assert "exceeds the bound" in get_workchain_report(node, "REPORT")


def test_equipartition_start_replayed_on_mock(
    mock_code: Callable[..., InstalledCode], nc_family: str
) -> None:
    """'equipartition': velocities drawn at 2T by pw.x ('initial'), then free NVE chunks."""
    from aiida.orm import CalcJobNode

    results, node = _run_five_steps(mock_code("pw.x"), nc_family, "equipartition")
    temperature = results["trajectory"].get_array("temperature")
    assert temperature[0] == pytest.approx(600.0, rel=0.02)
    runs = sorted(
        (n for n in node.called_descendants if isinstance(n, CalcJobNode)), key=lambda n: n.ctime
    )
    ions = [n.inputs.parameters["IONS"] for n in runs]
    assert [i["ion_temperature"] for i in ions] == ["initial"] + ["not_controlled"] * (
        len(runs) - 1
    )
    assert ions[0]["tempw"] == 600.0
    _check_extrapolated_steps_with_band_energies(runs, results)
    assert all(n.inputs.parameters["CONTROL"]["tstress"] is False for n in runs)
    assert results["md_plot"].get_content(mode="rb")[:8] == b"\x89PNG\r\n\x1a\n"
    diagnostics = results["diagnostics"].get_dict()
    assert diagnostics["target_temperature_k"] == 300.0
    checks = ("temperature_deviation", "temperature_half_change", "potential_energy_half_change")
    within = [abs(diagnostics[f"{name}_percent"]) <= 15.0 for name in checks]
    assert diagnostics["thermalised"] is all(within)
    first, second = (
        diagnostics["temperature_first_half_k"],
        diagnostics["temperature_second_half_k"],
    )
    assert diagnostics["temperature_half_change_percent"] == pytest.approx(
        100 * (second - first) / 300.0
    )
