"""Capped runs of the production protocols (issue 24, item 6): every pw.x input kind kept.

References: the uncapped builder of the same protocol (the pw.x parameters differ only in
the documented capped keys; pseudopotentials, k-point kinds and post-processing inputs are
the same), the constants of ``workflows/inputs/capped.py`` for the caps. The CLI's
``--capped --dry-run`` is tested in tests/workflows/cli/test_dry_run.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from workflows.inputs import capped

CAPPED_KEYS = {
    ("ELECTRONS", "conv_thr"),
    ("CONTROL", "etot_conv_thr"),
    ("CONTROL", "forc_conv_thr"),
    ("CELL", "press_conv_thr"),
    ("SYSTEM", "nbnd"),  # the occupied bands of the smaller model + the same empty ones
    # local-TF and Gaussian smearing from 60 atoms on (scf_for_size): stringent's 104-atom
    # SCFs have them, the 13-atom capped ones not; its relaxation keeps the protocol's
    # local-TF (checked below).
    ("ELECTRONS", "mixing_mode"),
    ("SYSTEM", "occupations"),
    ("SYSTEM", "smearing"),
    ("SYSTEM", "degauss"),
}


def _namespaces(builder: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, namespace) of every sub-namespace of ``builder``."""
    from aiida import orm

    for key, value in builder.items():
        if hasattr(value, "items") and not isinstance(value, orm.Node):
            name = f"{path}.{key}" if path else key
            yield name, value
            yield from _namespaces(value, name)


def _pw_inputs(builder: Any) -> dict[str, Any]:
    """Every filled ``pw`` namespace of a pipeline builder, by path."""
    return {
        path: ns
        for path, ns in _namespaces(builder)
        if path.endswith(".pw") and ns.get("parameters") is not None
    }


def _builders(codes: dict[str, Any], protocol: str) -> tuple[Any, Any]:
    from workflows.workchains.pipeline import PipelineWorkChain

    make = PipelineWorkChain.get_builder_from_protocol
    return (
        make(codes, "CsPbBr3", "CdS", protocol),
        make(codes, "CsPbBr3", "CdS", protocol, overrides=capped.capped_overrides(protocol)),
    )


@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_capped_run_keeps_every_pw_input_kind(protocol: str, study_codes: dict[str, Any]) -> None:
    full, cut = _builders(study_codes, protocol)
    full_pw, cut_pw = _pw_inputs(full), _pw_inputs(cut)
    assert set(full_pw) == set(cut_pw)
    for path, namespace in full_pw.items():
        before = namespace.parameters.get_dict()
        after = cut_pw[path].parameters.get_dict()
        keys = {(n, k) for n, values in before.items() for k in values}
        cut_keys = {(n, k) for n, values in after.items() for k in values}
        assert keys ^ cut_keys <= CAPPED_KEYS, (path, keys ^ cut_keys)
        changed = {(n, k) for n, k in keys & cut_keys if before[n][k] != after[n][k]}
        assert changed <= CAPPED_KEYS, (path, changed - CAPPED_KEYS)
        pseudos = {kind: pseudo.md5 for kind, pseudo in namespace.pseudos.items()}
        assert pseudos == {kind: p.md5 for kind, p in cut_pw[path].pseudos.items()}, path
        settings = namespace.get("settings")
        cut_settings = cut_pw[path].get("settings")
        assert (settings and settings.get_dict()) == (cut_settings and cut_settings.get_dict())
    modes = [
        ns.parameters.get_dict().get("ELECTRONS", {}).get("mixing_mode") for ns in cut_pw.values()
    ]
    assert "local-TF" in modes, "the interface relaxation reads local-TF mixing"
    for step in ("electronic", "alignment.electronic"):
        full_step, cut_step = full, cut
        for name in step.split("."):
            full_step, cut_step = full_step[name], cut_step[name]
        for name in ("projwfc", "pp_potential"):
            assert full_step[name].parameters.get_dict() == cut_step[name].parameters.get_dict()
    for name in ("temperature", "timestep_fs", "thermostat", "empty_bands", "max_walltime_seconds"):
        assert full.aimd[name].value == cut.aimd[name].value
    assert full.aimd.md.kpoints.get_kpoints_mesh() == cut.aimd.md.kpoints.get_kpoints_mesh()
    for name in ("carrier", "frames_per_job"):
        assert full.na_snapshots.get(name) == cut.na_snapshots.get(name)
    assert full.interface.relax.kpoints.get_kpoints_mesh() == (
        cut.interface.relax.kpoints.get_kpoints_mesh()
    )


@pytest.mark.parametrize("protocol", ["balanced", "stringent"])
def test_caps_are_those_documented(protocol: str, study_codes: dict[str, Any]) -> None:
    from heterostructures.dynamics.spectra import MIN_SAMPLES

    full, cut = _builders(study_codes, protocol)
    relax = cut.interface.relax.pw.parameters.get_dict()
    assert relax["CONTROL"]["forc_conv_thr"] == capped.FORC_CONV_THR
    assert relax["CONTROL"]["etot_conv_thr"] == capped.ETOT_CONV_THR_RY
    assert relax["ELECTRONS"]["conv_thr"] == pytest.approx(13 * capped.CONV_THR_PER_ATOM)
    bulk = cut.perovskite_bulk.relax.base_relax
    assert bulk.pw.parameters["CELL"]["press_conv_thr"] == capped.PRESS_CONV_THR
    assert bulk.kpoints_distance.value == max(
        full.perovskite_bulk.relax.base_relax.kpoints_distance.value, 0.5
    )
    for step, floor in (("scf", 0.5), ("nscf", 0.35)):
        assert cut.electronic[step].kpoints_distance.value == max(
            full.electronic[step].kpoints_distance.value, floor
        )
    spec = cut.interface.interface.get_dict()
    assert spec["model"] == full.interface.interface["model"]
    assert (spec["perovskite_planes"], spec["chalcogenide_planes"]) == (3, 2)
    assert cut.alignment.thicknesses.get_list() == capped.CAPPED_THICKNESSES
    dt = cut.aimd.timestep_fs.value
    assert cut.aimd.equilibration_time_fs.value == capped.EQUILIBRATION_STEPS * dt
    assert cut.aimd.production_time_fs.value == MIN_SAMPLES * dt
    assert cut.aimd.snapshot_window_fs.value == (MIN_SAMPLES - 1) * dt
    assert cut.na_snapshots.n_chains.value == 1
    snapshot_conv_thr = cut.na_snapshots.scf.pw.parameters["ELECTRONS"]["conv_thr"]
    assert snapshot_conv_thr == pytest.approx(13 * capped.CONV_THR_PER_ATOM)  # 13-atom model
    dynamics = cut.na_analysis.dynamics.get_dict()
    assert {key: dynamics[key] for key in capped.NA_DYNAMICS_CAPS} == capped.NA_DYNAMICS_CAPS
    assert cut.na_analysis.populations["on_broken_character"] == "flag"


def test_caller_overrides_go_on_top_and_unknown_protocols_are_refused() -> None:
    from workflows.protocols import UnknownProtocolError

    mine = {"interface": {"interface": {"relation": "paper"}}}
    assert capped.capped_overrides("balanced", mine)["interface"]["interface"] == {
        **capped.CAPPED_PLANES,
        "relation": "paper",
    }
    with pytest.raises(UnknownProtocolError, match="choose"):
        capped.capped_overrides("quick")
