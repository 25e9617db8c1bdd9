"""The provenance header of a study report: which study, made by what, when, with which codes.

A reader months later needs this before any number: the study's UUID (stable across
profiles and archives, unlike the PK), the package versions that ran it (AiiDA stores
them on the node as ``version.core``/``version.plugin``), the codes and the
pseudopotentials, and how to trace a number back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiida import orm
from aiida.common.links import LinkType

from workflows import __version__
from workflows.provenance.process_tree import stored_pk


def _job_inputs(callers: list[int], node_class: type[orm.Node], label: dict[str, str]) -> set[int]:
    """PKs of the ``node_class`` inputs, with link labels matching ``label``, of every CalcJob
    the workflows ``callers`` called directly."""
    query = orm.QueryBuilder()
    query.append(orm.WorkflowNode, filters={"id": {"in": callers}}, tag="caller")
    query.append(
        orm.CalcJobNode,
        with_incoming="caller",
        edge_filters={"type": LinkType.CALL_CALC.value},
        tag="job",
    )
    query.append(node_class, with_outgoing="job", edge_filters={"label": label}, project="id")
    return set(query.distinct().all(flat=True))


def _study_inputs(pipeline: orm.WorkflowNode) -> tuple[set[int], set[int]]:
    """PKs of the codes and of the pseudopotentials (``pseudos__<kind>`` inputs) of every
    CalcJob the study called.

    Walks the CALL links level by level with QueryBuilder, projecting only PKs: a study's
    hundreds of CalcJobs (one SCF per NA snapshot) are never loaded, only their few inputs.
    Data links are not followed, so a later study that used this one's outputs adds none.
    """
    frontier = [stored_pk(pipeline)]
    code_pks: set[int] = set()
    pseudo_pks: set[int] = set()
    while frontier:
        code_pks |= _job_inputs(frontier, orm.AbstractCode, {"==": "code"})
        pseudo_pks |= _job_inputs(frontier, orm.Data, {"like": "pseudos__%"})
        workflows = orm.QueryBuilder()
        workflows.append(orm.WorkflowNode, filters={"id": {"in": frontier}}, tag="caller")
        workflows.append(
            orm.WorkflowNode,
            with_incoming="caller",
            edge_filters={"type": LinkType.CALL_WORK.value},
            project="id",
        )
        frontier = list(set(workflows.all(flat=True)))
    return code_pks, pseudo_pks


def _codes_used(pipeline: orm.WorkflowNode) -> list[str]:
    """Full labels of every code a CalcJob of the study ran (``pw@localhost``, …)."""
    return _code_labels(_study_inputs(pipeline)[0])


def _code_labels(code_pks: set[int]) -> list[str]:
    return sorted({orm.load_code(pk).full_label for pk in code_pks})


UPF_HEADER_CHARS = 65536
"""How much of a UPF file is read for its header (PP_INFO precedes PP_HEADER)."""
PSEUDO_KINDS = {"NC": "NC", "SL": "NC", "US": "US", "USPP": "US", "PAW": "PAW"}
"""UPF ``pseudo_type`` → norm-conserving (NC), ultrasoft (US) or PAW."""


def upf_pseudo_kind(text: str) -> str | None:
    """NC, US or PAW from the start of a UPF file: ``pseudo_type="…"`` of a v2 PP_HEADER,
    or the third line of a v1 ``<PP_HEADER>`` (version, element, type: QE's
    ``read_upf_v1``); None when neither is there."""
    match = re.search(r'<PP_HEADER\b[^>]*?\bpseudo_type="\s*(\w+)', text) or re.search(
        r"<PP_HEADER>[^\n]*\n(?:[^\n]*\n){2}\s*(\w+)", text
    )
    return PSEUDO_KINDS.get(match.group(1).upper()) if match else None


def _family_entry(name: str, pseudo_pks: set[int]) -> str:
    """``name (PAW: Cd, S)``: the kinds the UPF headers declare and the elements used."""
    kinds, elements = set(), set()
    for pk in pseudo_pks:
        # No ``sub_classes`` filter: it matches node types by prefix, and aiida-pseudo's
        # ``data.pseudo.upf.UpfData.`` is not under ``data.core.singlefile.``.
        pseudo = orm.load_node(pk)
        if not isinstance(pseudo, orm.SinglefileData):
            kinds.add("not a file")
            continue
        with pseudo.open(mode="r") as handle:
            kinds.add(upf_pseudo_kind(handle.read(UPF_HEADER_CHARS)) or "type not stated")
        elements.add(str(getattr(pseudo, "element", None) or pseudo.filename))
    return f"{name} ({'/'.join(sorted(kinds))}: {', '.join(sorted(elements))})"


def _pseudo_families(pseudo_pks: set[int]) -> list[str]:
    """One entry per aiida-pseudo family (group type ``pseudo.family*``) the study's
    pseudopotentials belong to, by label; pseudopotentials in no family as one entry."""
    if not pseudo_pks:
        return []
    members = orm.QueryBuilder()
    members.append(orm.Data, filters={"id": {"in": sorted(pseudo_pks)}}, project="id", tag="pseudo")
    members.append(
        orm.Group,
        with_node="pseudo",
        filters={"type_string": {"like": "pseudo.family%"}},
        project="label",
    )
    families: dict[str, set[int]] = {}
    for pk, label in members.all():
        families.setdefault(f"`{label}`", set()).add(pk)
    in_families = set().union(*families.values())
    entries = [_family_entry(name, pks) for name, pks in sorted(families.items())]
    if pseudo_pks - in_families:
        entries.append(_family_entry("in no family", pseudo_pks - in_families))
    return entries


def provenance_header(pipeline: orm.WorkflowNode, summary: dict[str, Any]) -> str:
    """Markdown lines naming the study and how it was made (dates in UTC)."""
    version = pipeline.base.attributes.get("version", {}) or {}
    code_pks, pseudo_pks = _study_inputs(pipeline)
    codes = ", ".join(f"`{code}`" for code in _code_labels(code_pks)) or "none recorded"
    pseudos = "; ".join(_pseudo_families(pseudo_pks)) or "none recorded"
    made = pipeline.ctime.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    finished = pipeline.mtime.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return (
        "\n".join(
            [
                f"# {summary.get('pair', 'janus')} study <{pipeline.pk}>",
                "",
                f"- study UUID `{pipeline.uuid}`; started {made} UTC, last changed {finished} UTC;"
                f" state {pipeline.process_state.value if pipeline.process_state else '?'}"
                f" (exit status {pipeline.exit_status})",
                f"- run by aiida-janus {version.get('plugin', '?')} with aiida-core "
                f"{version.get('core', '?')}; this report written by aiida-janus {__version__} "
                f"on {today}",
                f"- codes: {codes}",
                f"- pseudopotential families: {pseudos}",
                f"- level of theory: {summary.get('level_of_theory', 'not recorded')}",
                f"- where a number came from: `aiida-janus query trace {pipeline.pk} <key>`",
            ]
        )
        + "\n\n"
    )


FIGURE_CAPTIONS = {
    "pdos_plot": "Domain- and layer-projected DOS of the interface model; energies from the "
    "midgap reference (eV).",
    "edge_profile_plot": "Valence and conduction band edges layer by layer across the "
    "interface (eV), from the projected DOS.",
    "potential_plot": "Planar and macroscopic averages of the electrostatic potential along "
    "the normal (eV, Å); route 2's plateau windows marked.",
    "band_alignment_diagram": "Band levels of both sides per route and gap correction, "
    "offsets labelled (eV).",
    "offsets_vs_thickness": "ΔE_V and ΔE_C against model thickness, per route; the band "
    "marks ±0.05 eV around the thickest model.",
    "density_plot": "|ψ|² of the initial (IS) and final (FS) states, planar averages along "
    "the normal (Å⁻³ vs Å).",
    "md_plot": "AIMD temperature (K), and total and potential energy relative to the total at "
    "the first frame beside the ions' kinetic energy (eV), against time (fs); NVE start dotted, "
    "target temperature dashed.",
    "spectral_density_plot": "Spectral density of the IS–FS gap fluctuation against "
    "wavenumber (cm⁻¹) with its bin spacing; since 0.6 an unresolved spectrum is drawn as "
    "stems at its bins (Fig. 4c of the paper).",
    "peak_assignment_plot": "IS–FS gap spectral density (eV² fs) above each element's share of "
    "the NVE kinetic-energy spectrum against wavenumber (cm⁻¹); our peaks labelled with the "
    "element moving there, the paper's six peaks dashed for comparison.",
    "dynamics_plot": "Donor-domain population against time (fs) from DISH/FSSH, shaded ± 1 "
    "standard error over the initial times (where the analysis stored it), its exp(−t/τ_ET) "
    "fit dotted, and E(t) − E_FS (eV) below (Fig. 4d of the paper).",
    "nac_plot": "Non-adiabatic couplings ħ|d_ij| (meV) of the band pairs of the NA window "
    "(pw.x band numbers) against time (fs), at the midpoints between snapshots, from the "
    "stored NA Hamiltonian; the IS–FS pair in black, pairs beyond the 8 strongest in grey.",
    "gap_acf_plot": "Normalised autocorrelation C(t)/C(0) of the IS–FS gap fluctuation against "
    "the time lag (fs), the ACF the pure dephasing integrates (σ = √C(0) stated), beside the "
    "spectral density (eV² fs against cm⁻¹) with its resolution.",
    "dephasing_plot": "Pure-dephasing function D(t) = exp(−g(t)) of the IS–FS gap (second-order "
    "cumulant of its autocorrelation, dimensionless) against the time lag (fs), with the "
    "Gaussian the stored convention fits (PYXAID: exp(−(t/τ)²) over the lags where D > 0.1, "
    "shaded) dashed and the fitted τ ± its bootstrap σ (fs) marked by the vertical line.",
    "scf_convergence_plot": "pw.x estimated SCF accuracy (Ry, log scale) per iteration of the "
    "interface SCF of the electronic step; conv_thr dashed, restarts separated by dotted lines.",
    "relaxation_plot": "BFGS relaxation of the interface: E − E_last (meV) and the largest "
    "atomic force (eV/Å, log scale; fixed atoms carry none) per ionic step, pw.x "
    "forc_conv_thr (a bound on each force component) dashed.",
    "structure_plot": "The study's (relaxed) interface model seen along a and along b: heights "
    "along the interface normal z (Å), atoms coloured by element, domain boundaries dashed "
    "red, cell edges grey.",
    "provenance_graph": "Provenance of the study: the janus.pipeline and the steps it called "
    "(CALL links labelled with the step names), drawn by aiida-core's Graph as `verdi node "
    "graph generate` draws it (also as provenance_graph.svg and provenance_graph.pdf).",
    "provenance_graph_source": "Provenance of the study (the janus.pipeline and the steps it "
    "called) as graphviz DOT source: graphviz's `dot` was not found on the machine that wrote "
    "this report, so no picture was drawn (`aiida-janus setup` installs graphviz where it "
    "can); render it with `dot -Tsvg provenance_graph.dot -o provenance_graph.svg`.",
}
"""Caption of each figure a study can make, by the output label that stores it."""


def figure_section(files: dict[str, str], problems: list[str] | None = None) -> str:
    """Markdown list of the figures written beside the summary, each with its caption, and
    the figures that could not be drawn (``problems``, one line each).

    ``files``: output label (with a ``_<pk>`` suffix when a label repeats) → file name."""
    lines = ["", "## Figures", ""]
    for label, name in sorted(files.items()):
        base = label.rsplit("_", 1)[0] if label.rsplit("_", 1)[-1].isdigit() else label
        caption = FIGURE_CAPTIONS.get(base, "figure of the study")
        if base != label:
            caption += (
                f" Another model of the study (the figure node's PK {label[len(base) + 1 :]})."
            )
        lines.append(f"- [`{name}`]({name}): {caption}")
    lines += [f"- {problem}" for problem in problems or []]
    return "\n".join(lines) + "\n"
