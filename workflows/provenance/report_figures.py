"""Figures the study report draws from stored data: NAC(t), gap ACF, D(t), convergence, graph.

The steps store Fig. 4c/4d and the alignment figures themselves; these further figures are
drawn when a report is written, from what the study stored: the NA Hamiltonian
(``na_hamiltonian``), the dephasing ACF and function D(t) with its fit, and the spectral
density of ``janus.na_analysis``, the MD ``trajectory`` of ``janus.aimd`` (the MD figure,
redrawn), the ``output_trajectory`` of the interface SCF and relaxation PwCalculations
(aiida-quantumespresso), the relaxed ``structure`` with its ``site_labels``, and the CALL
links of the study. The drawing is in :mod:`heterostructures.plots`; here nodes only become
arrays. A figure whose step did not run is left out; one whose data cannot be drawn is
named with the reason. The provenance graph needs graphviz's ``dot``: without it the graph
is written as DOT source and the caption says so.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.common.links import LinkType
from matplotlib.figure import Figure

from heterostructures.plots.convergence import relaxation_figure, scf_convergence_figure
from heterostructures.plots.dephasing import dephasing_figure
from heterostructures.plots.files import PNG_DPI, write_figure
from heterostructures.plots.md import md_figure
from heterostructures.plots.na_time import gap_acf_figure, nac_figure
from heterostructures.plots.structure_views import structure_side_views

GRAPH_STEM = "provenance_graph"
GRAPH_SOURCE_LABEL = f"{GRAPH_STEM}_source"


def _called(workflow: orm.ProcessNode | None, label: str) -> orm.ProcessNode | None:
    """The last process ``workflow`` called with this CALL link label, or None."""
    if workflow is None:
        return None
    links = workflow.base.links.get_outgoing(
        link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK), link_label_filter=label
    ).all()
    nodes = [link.node for link in links if isinstance(link.node, orm.ProcessNode)]
    return max(nodes, key=lambda node: node.ctime) if nodes else None


def _pw_jobs(workflow: orm.ProcessNode | None) -> list[orm.CalcJobNode]:
    """The CalcJobs a PwBaseWorkChain ran (restarts included), in the order they ran."""
    if workflow is None:
        return []
    links = workflow.base.links.get_outgoing(link_type=LinkType.CALL_CALC).all()
    jobs = [link.node for link in links if isinstance(link.node, orm.CalcJobNode)]
    return sorted(jobs, key=lambda node: node.ctime)


def _pw_trajectories(workflow: orm.ProcessNode | None) -> list[orm.ArrayData]:
    """``output_trajectory`` of every pw.x run a PwBaseWorkChain made, restarts in order."""
    return [
        job.outputs.output_trajectory
        for job in _pw_jobs(workflow)
        if "output_trajectory" in job.outputs
    ]


def _parameter(workflow: orm.ProcessNode, namelist: str, key: str) -> float | None:
    """A pw.x input parameter of the last run of a PwBaseWorkChain (None when not given)."""
    jobs = _pw_jobs(workflow)
    if not jobs or "parameters" not in jobs[-1].inputs:
        return None
    value = jobs[-1].inputs.parameters.get_dict().get(namelist, {}).get(key)
    return None if value is None else float(value)


def nac_plot(pipeline: orm.WorkflowNode) -> Figure | None:
    """|NAC|(t) of the window's band pairs, the IS–FS pair in black."""
    if "na_hamiltonian" not in pipeline.outputs:
        return None
    hamiltonian = pipeline.outputs.na_hamiltonian
    first, last = hamiltonian.base.attributes.get("band_window")
    analysis = _called(pipeline, "na_analysis")
    highlight = None
    if analysis is not None and {"initial_band", "final_band"} <= set(analysis.inputs):
        highlight = (analysis.inputs.initial_band.value, analysis.inputs.final_band.value)
    return nac_figure(
        hamiltonian.get_array("times_fs"),
        hamiltonian.get_array("nac_per_fs"),
        list(range(first, last + 1)),
        highlight,
    )


def gap_acf_plot(pipeline: orm.WorkflowNode) -> Figure | None:
    """The normalised ACF the dephasing integrated, beside the spectral density."""
    analysis = _called(pipeline, "na_analysis")
    needed = {"dephasing", "spectral_density", "spectral_summary"}
    if analysis is None or not needed <= set(analysis.outputs):
        return None
    dephasing, density = analysis.outputs.dephasing, analysis.outputs.spectral_density
    summary = analysis.outputs.spectral_summary.get_dict()
    return gap_acf_figure(
        dephasing.get_array("times_fs"),
        dephasing.get_array("acf_ev2"),
        density.get_array("frequencies_cm"),
        density.get_array("intensity"),
        summary["resolution_cm"],
        bool(summary.get("resolved")),
    )


def dephasing_plot(pipeline: orm.WorkflowNode) -> Figure | None:
    """D(t) of the IS–FS gap with the stored Gaussian fit and τ, in the stored convention."""
    analysis = _called(pipeline, "na_analysis")
    if analysis is None or not {"dephasing", "spectral_summary"} <= set(analysis.outputs):
        return None
    dephasing = analysis.outputs.dephasing
    summary = analysis.outputs.spectral_summary.get_dict()
    if "dephasing" not in summary:
        return None
    return dephasing_figure(
        dephasing.get_array("times_fs"),
        dephasing.get_array("dephasing"),
        summary["dephasing"],
        summary.get("dephasing_convention", "pyxaid"),
    )


def md_plot(pipeline: orm.WorkflowNode) -> Figure | None:
    """The AIMD run redrawn from its stored ``trajectory``: T, and total, potential and
    kinetic energy, with the NVE start and target T of the merge's ``settings``. Written
    under the label of the PNG the MD step stored, which it replaces (that one has no
    vector file, and in studies before this figure no kinetic energy)."""
    aimd = _called(pipeline, "aimd")
    if aimd is None or "trajectory" not in aimd.outputs:
        return None
    trajectory = aimd.outputs.trajectory
    merge = trajectory.creator
    settings = {}
    if merge is not None and "settings" in merge.inputs:
        settings = merge.inputs.settings.get_dict()
    return md_figure(
        trajectory.get_array("times"),
        trajectory.get_array("temperature"),
        trajectory.get_array("potential_energy"),
        trajectory.get_array("kinetic_energy"),
        settings.get("production_start_fs"),
        settings.get("target_temperature_k"),
    )


def scf_convergence_plot(pipeline: orm.WorkflowNode) -> Figure | None:
    """Estimated SCF accuracy per iteration of the interface SCF (``electronic/scf``)."""
    scf = _called(_called(pipeline, "electronic"), "scf")
    trajectories = [t for t in _pw_trajectories(scf) if "scf_accuracy" in t.get_arraynames()]
    if scf is None or not trajectories:
        return None
    accuracies = np.concatenate([t.get_array("scf_accuracy") for t in trajectories])
    iterations = [len(t.get_array("scf_accuracy")) for t in trajectories]
    threshold = _parameter(scf, "ELECTRONS", "conv_thr")
    title = "interface SCF" + (f" ({len(iterations)} runs)" if len(iterations) > 1 else "")
    return scf_convergence_figure(accuracies, iterations, threshold, title)


def relaxation_plot(pipeline: orm.WorkflowNode) -> Figure | None:
    """Energy and largest force per BFGS step of the interface relaxation (``interface/relax``)."""
    relax = _called(_called(pipeline, "interface"), "relax")
    trajectories = [
        t for t in _pw_trajectories(relax) if {"energy", "forces"} <= set(t.get_arraynames())
    ]
    if relax is None or not trajectories:
        return None
    energies = np.concatenate([t.get_array("energy") for t in trajectories])
    forces = np.concatenate([t.get_array("forces") for t in trajectories])
    threshold = _parameter(relax, "CONTROL", "forc_conv_thr")
    return relaxation_figure(energies, forces, threshold)


def structure_plot(pipeline: orm.WorkflowNode) -> Figure | None:
    """Side views of the study's (relaxed) interface model, domains from its site labels."""
    if not {"structure", "site_labels"} <= set(pipeline.outputs):
        return None
    atoms = pipeline.outputs.structure.get_ase()
    domains = list(pipeline.outputs.site_labels.get_dict()["domain"])
    return structure_side_views(
        atoms.positions, atoms.cell.array, atoms.get_chemical_symbols(), domains
    )


FIGURES: dict[str, Callable[[orm.WorkflowNode], Figure | None]] = {
    "nac_plot": nac_plot,
    "gap_acf_plot": gap_acf_plot,
    "dephasing_plot": dephasing_plot,
    "md_plot": md_plot,
    "scf_convergence_plot": scf_convergence_plot,
    "relaxation_plot": relaxation_plot,
    "structure_plot": structure_plot,
}
"""Figures drawn at report time, by the stem of their files."""


def provenance_graph(pipeline: orm.WorkflowNode, outdir: Path) -> dict[str, Path]:
    """The study and the steps it called (CALL links labelled with the step names), drawn
    by aiida's ``Graph`` as ``verdi node graph generate`` does: PNG (300 dpi), SVG and PDF
    with graphviz's ``dot`` when it is on PATH, else the DOT source
    (``provenance_graph_source``)."""
    from aiida.tools.visualization import Graph

    graph = Graph(graph_attr={"rankdir": "LR"})
    graph.recurse_descendants(
        pipeline,
        depth=1,
        link_types=(LinkType.CALL_CALC, LinkType.CALL_WORK),
        annotate_links="label",
    )
    digraph = graph.graphviz
    if shutil.which("dot") is None:
        path = outdir / f"{GRAPH_STEM}.dot"
        path.write_text(digraph.source, encoding="utf-8")
        return {GRAPH_SOURCE_LABEL: path}
    written = {}
    for label, fmt in ((f"{GRAPH_STEM}_vector", "svg"), (f"{GRAPH_STEM}_pdf", "pdf")):
        written[label] = outdir / f"{GRAPH_STEM}.{fmt}"
        written[label].write_bytes(digraph.pipe(format=fmt))
    digraph.graph_attr["dpi"] = str(PNG_DPI)  # bitmap only: dpi would rescale SVG and PDF
    written[GRAPH_STEM] = outdir / f"{GRAPH_STEM}.png"
    written[GRAPH_STEM].write_bytes(digraph.pipe(format="png"))
    return written


def study_figures(pipeline: orm.WorkflowNode, outdir: Path) -> tuple[dict[str, Path], list[str]]:
    """Write every figure of :data:`FIGURES` the study's data allow, and the provenance
    graph, into ``outdir``: paths by label (``<stem>`` PNG, ``<stem>_vector`` SVG) and one
    line per figure that could not be drawn, saying why."""
    written: dict[str, Path] = {}
    problems = []
    for stem, draw in FIGURES.items():
        try:
            figure = draw(pipeline)
        except (ValueError, KeyError) as error:
            problems.append(f"{stem}: not drawn ({error})")
            continue
        if figure is None:
            continue
        paths = write_figure(figure, outdir, stem)
        written |= {stem: paths["png"], f"{stem}_vector": paths["svg"]}
    written |= provenance_graph(pipeline, outdir)
    return written, problems
