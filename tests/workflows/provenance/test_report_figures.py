"""Figures the report draws from stored data, on a hand-built study (no QE, seconds).

The study is a graph of nodes linked as ``janus.pipeline`` links them (CALL labels
``interface/relax``, ``electronic/scf``, ``na_analysis``; outputs ``structure``,
``site_labels``, ``na_hamiltonian``, ``summary``), holding the arrays aiida-quantumespresso
stores in ``output_trajectory``. Reference: the arrays put in, read back from the drawn
figures' files and captions; graphviz's absence simulated by hiding ``dot``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from ase.build import bulk

from heterostructures.dynamics.dephasing import cumulant, pyxaid_tau
from heterostructures.dynamics.nac import nonadiabatic_couplings
from workflows.provenance import report_figures
from workflows.provenance.report import write_report

NEW_FIGURES = (
    "nac_plot",
    "gap_acf_plot",
    "dephasing_plot",
    "md_plot",
    "scf_convergence_plot",
    "relaxation_plot",
    "structure_plot",
)


def _data(node: orm.Data, creator: orm.ProcessNode, label: str) -> orm.Data:
    node.base.links.add_incoming(creator, LinkType.CREATE, label)
    return node.store()


def _returned(node: orm.Data, workflow: orm.WorkflowNode, label: str) -> None:
    node.base.links.add_incoming(workflow, LinkType.RETURN, label)


def _workflow(
    caller: orm.WorkflowNode | None, label: str = "CALL", inputs: dict | None = None
) -> orm.WorkflowNode:
    node = orm.WorkflowNode()
    if caller is not None:
        node.base.links.add_incoming(caller, LinkType.CALL_WORK, label)
    for name, value in (inputs or {}).items():
        node.base.links.add_incoming(value.store(), LinkType.INPUT_WORK, name)
    return node.store()


def _pw_job(
    caller: orm.WorkflowNode, computer: orm.Computer, parameters: dict, arrays: dict
) -> None:
    job = orm.CalcJobNode(computer=computer)
    job.base.links.add_incoming(orm.Dict(parameters).store(), LinkType.INPUT_CALC, "parameters")
    job.base.links.add_incoming(caller, LinkType.CALL_CALC, "iteration_01")
    job.store()
    trajectory = orm.ArrayData()  # read like TrajectoryData: by array name
    for name, values in arrays.items():
        trajectory.set_array(name, np.asarray(values))
    _data(trajectory, job, "output_trajectory")


def _na_outputs(
    pipeline: orm.WorkflowNode, calc: orm.CalcFunctionNode, gap_sigma_ev: float
) -> None:
    theta = np.array([0.01, 0.02, 0.015, 0.01])
    rotations = [np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]]) for t in theta]
    hamiltonian = orm.ArrayData()
    hamiltonian.set_array(
        "nac_per_fs", np.array([nonadiabatic_couplings(s, 1.0) for s in rotations])
    )
    hamiltonian.set_array("times_fs", np.arange(5.0))
    hamiltonian.base.attributes.set("band_window", [50, 51])
    _returned(_data(hamiltonian, calc, "na_hamiltonian"), pipeline, "na_hamiltonian")
    bands = {"initial_band": orm.Int(51), "final_band": orm.Int(50)}
    analysis = _workflow(pipeline, "na_analysis", bands)
    lags = np.arange(0.0, 50.0)
    dephasing, density = orm.ArrayData(), orm.ArrayData()
    dephasing.set_array("times_fs", lags)
    acf = gap_sigma_ev**2 * np.cos(2 * np.pi * lags / 20.0)
    dephasing.set_array("acf_ev2", acf)
    dephasing.set_array("dephasing", np.exp(-cumulant(acf, 1.0)))
    density.set_array("frequencies_cm", np.linspace(0.0, 1000.0, 30))
    density.set_array("intensity", np.linspace(1.0, 0.0, 30))
    tau, used = pyxaid_tau(cumulant(acf, 1.0), lags)
    fit = {
        "tau_fs": float(tau) if np.isfinite(tau) else None,
        "tau_sigma_fs": 0.5,
        "window_fs": float(lags[int(used) - 1]),
        "determined": True,
    }
    summary = orm.Dict(
        {
            "resolution_cm": 334.0,
            "resolved": False,
            "peaks_cm": [],
            "dephasing": fit,
            "dephasing_convention": "pyxaid",
        }
    )
    for name, node in (("dephasing", dephasing), ("spectral_density", density)):
        _returned(_data(node, calc, name), analysis, name)
    _returned(_data(summary, calc, "spectral_summary"), analysis, "spectral_summary")


def _md_outputs(pipeline: orm.WorkflowNode) -> None:
    """``janus.aimd``'s outputs as its merge stores them: the trajectory's energy arrays,
    the merge's settings, and the PNG the step drew (a stand-in the report must replace)."""
    aimd = _workflow(pipeline, "aimd")
    merge = orm.CalcFunctionNode()
    settings = orm.Dict({"production_start_fs": 3.0, "target_temperature_k": 300.0}).store()
    merge.base.links.add_incoming(settings, LinkType.INPUT_CALC, "settings")
    merge.store()
    trajectory = orm.ArrayData()
    times = np.arange(8.0)
    kinetic = 0.1 + 0.05 * np.sin(times) ** 2
    for name, values in (
        ("times", times),
        ("kinetic_energy", kinetic),
        ("potential_energy", -100.0 - kinetic),
        ("temperature", kinetic * 3000.0),
    ):
        trajectory.set_array(name, values)
    _returned(_data(trajectory, merge, "trajectory"), aimd, "trajectory")
    stale = orm.SinglefileData(io.BytesIO(b"\x89PNG stale"), filename="md.png")
    _returned(_data(stale, merge, "md_plot"), aimd, "md_plot")


def _study(computer: orm.Computer, gap_sigma_ev: float = 0.1) -> orm.WorkflowNode:
    """A finished study with every step whose data the new figures need; the IS–FS gap
    fluctuates by ``gap_sigma_ev`` (eV)."""
    pipeline = _workflow(None)
    calc = orm.CalcFunctionNode().store()
    relax = _workflow(_workflow(pipeline, "interface"), "relax")
    forces = np.zeros((3, 4, 3))
    forces[:, 0, 2] = [0.3, 0.05, 0.004]
    _pw_job(
        relax,
        computer,
        {"CONTROL": {"forc_conv_thr": 1e-3}},
        {"energy": [-10.0, -10.02, -10.021], "forces": forces},
    )
    scf = _workflow(_workflow(pipeline, "electronic"), "scf")
    _pw_job(
        scf,
        computer,
        {"ELECTRONS": {"conv_thr": 1e-8}},
        {"scf_accuracy": [0.3, 0.01, 1e-4, 1e-6, 1e-9], "scf_iterations": [5]},
    )
    atoms = bulk("CdS", "zincblende", a=5.8, cubic=True)
    _returned(_data(orm.StructureData(ase=atoms), calc, "structure"), pipeline, "structure")
    domains = ["chalcogenide" if z < 2.9 else "perovskite" for z in atoms.positions[:, 2]]
    labels = orm.Dict({"domain": domains, "layer": [0] * len(atoms), "fixed": [False] * len(atoms)})
    _returned(_data(labels, calc, "site_labels"), pipeline, "site_labels")
    _na_outputs(pipeline, calc, gap_sigma_ev)
    _md_outputs(pipeline)
    summary = orm.Dict({"pair": "CdS/CdS", "level_of_theory": "PBE"})
    _returned(_data(summary, calc, "summary"), pipeline, "summary")
    return pipeline


def test_report_draws_the_new_figures_from_stored_data(
    localhost: orm.Computer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_figures.shutil, "which", lambda name: None)
    written = write_report(_study(localhost), tmp_path)
    table = written["summary"].read_text()
    for stem in NEW_FIGURES:
        assert written[stem].read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in written[f"{stem}_vector"].read_bytes()
        assert f"[`{stem}.png`]({stem}.png)" in table
    assert "not drawn" not in table
    assert "Pure-dephasing function D(t)" in table
    assert b"stale" not in written["md_plot"].read_bytes()  # redrawn, with kinetic energy
    assert "kinetic E" in written["md_plot_vector"].read_text()
    source = written["provenance_graph_source"].read_text()
    assert source.startswith("digraph")
    for step in ("interface", "electronic", "na_analysis"):
        assert f"label={step}" in source or f'label="{step}"' in source
    assert "[`provenance_graph.dot`](provenance_graph.dot)" in table
    assert "`dot` was not found" in table


def test_a_figure_that_cannot_be_drawn_is_named_with_the_reason(
    localhost: orm.Computer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gap that never fluctuated (C(0) = 0) has no normalised ACF: the report says so
    and still writes every other figure."""
    monkeypatch.setattr(report_figures.shutil, "which", lambda name: None)
    study = _study(localhost, gap_sigma_ev=0.0)
    written = write_report(study, tmp_path)
    table = written["summary"].read_text()
    assert "- gap_acf_plot: not drawn (need an ACF over ≥ 2 lags with C(0) > 0" in table
    assert "gap_acf_plot" not in written
    assert "nac_plot" in written


@pytest.mark.skipif(report_figures.shutil.which("dot") is None, reason="graphviz dot missing")
def test_provenance_graph_is_rendered_with_dot(localhost: orm.Computer, tmp_path: Path) -> None:
    written = report_figures.provenance_graph(_study(localhost), tmp_path)
    assert written["provenance_graph"].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in written["provenance_graph_vector"].read_bytes()
    assert written["provenance_graph_pdf"].read_bytes().startswith(b"%PDF")


FAKE_DOT = """#!/bin/sh
# Stand-in for graphviz's dot: says which format it was asked for and whether the DOT
# source it read sets a dpi.
for argument in "$@"; do case "$argument" in -T*) format="${argument#-T}";; esac; done
if grep 'dpi=' >/dev/null; then dpi=yes; else dpi=no; fi
printf 'format=%s dpi=%s\\n' "$format" "$dpi"
"""


def _bin_folder(path: Path, with_dot: bool) -> str:
    """A PATH entry holding only a stand-in ``dot`` (or nothing)."""
    path.mkdir()
    if with_dot:
        dot = path / "dot"
        dot.write_text(FAKE_DOT)
        dot.chmod(0o755)
    return str(path)


def test_with_dot_on_path_the_graph_is_rendered_to_png_svg_and_pdf(
    localhost: orm.Computer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dot`` present (a stand-in first on PATH, so no graphviz is needed): one call per
    format, the 300 dpi only in the PNG's source (a dpi rescales SVG and PDF)."""
    study = _study(localhost)
    folder = _bin_folder(tmp_path / "bin", with_dot=True)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    out = tmp_path / "report"
    out.mkdir()
    written = report_figures.provenance_graph(study, out)
    assert {label: path.name for label, path in written.items()} == {
        "provenance_graph": "provenance_graph.png",
        "provenance_graph_vector": "provenance_graph.svg",
        "provenance_graph_pdf": "provenance_graph.pdf",
    }
    assert written["provenance_graph"].read_text() == "format=png dpi=yes\n"
    assert written["provenance_graph_vector"].read_text() == "format=svg dpi=no\n"
    assert written["provenance_graph_pdf"].read_text() == "format=pdf dpi=no\n"


def test_without_dot_on_path_the_graph_is_written_as_dot_source(
    localhost: orm.Computer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = _study(localhost)
    monkeypatch.setenv("PATH", _bin_folder(tmp_path / "bin", with_dot=False))
    written = report_figures.provenance_graph(study, tmp_path)
    assert list(written) == ["provenance_graph_source"]
    assert written["provenance_graph_source"].read_text().startswith("digraph")
