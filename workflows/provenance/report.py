"""The study report: a summary table (Markdown) and the figures of a finished pipeline.

Reads only what the pipeline stored (its ``summary`` Dict and the PNG/SVG
``SinglefileData`` its steps produced), so a report can be regenerated months later from
the database or an exported archive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiida import orm

from workflows.provenance.peak_rows import peak_rows
from workflows.provenance.process_tree import called_processes, stored_pk
from workflows.provenance.report_figures import study_figures
from workflows.provenance.report_header import figure_section, provenance_header

NOT_RUN = "not run"
#: figure files copied into a report; a ``<name>_vector`` output is written as ``<name>.svg``
FIGURE_SUFFIXES = (".png", ".svg")
#: files a report lists under "Figures" (the DOT source when graphviz cannot render)
LISTED_SUFFIXES = (".png", ".dot")
VECTOR_LABEL_SUFFIX = "_vector"


def _fmt(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "not determined"
    if isinstance(value, float):
        return f"{value:.{digits}f} {unit}".strip()
    return f"{value} {unit}".strip()


def _strain_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    report = summary.get("build_report")
    if not report:
        return [("interface", NOT_RUN)]
    return [
        (
            "interface",
            f"{report['formula']} ({report['n_atoms']} atoms), "
            f"{report['perovskite_termination']} on {report['chalcogenide_termination']}",
        ),
        (
            "strain perovskite / chalcogenide (%)",
            f"{report['perovskite_strain_percent'][0]:+.3f} / "
            f"{report['chalcogenide_strain_percent'][0]:+.3f}",
        ),
    ]


UNRESOLVED = ", not resolved: ΔE_V and ΔE_C both smaller than the PDOS grid step"


def _unresolved_routes(alignment: dict[str, Any]) -> set[str]:
    """Keys of the routes whose offsets are both below the PDOS grid step, so their signs
    (and the type) are noise: the analysis stores ``resolved: false`` on such a route
    (``alignment_analysis._with_resolution``)."""
    routes = alignment.get("routes", {})
    if any("resolved" in route for route in routes.values()):
        return {key for key, route in routes.items() if route.get("resolved") is False}
    # Fallback only for alignments stored before the analysis wrote ``resolved``: their
    # warning starts with the route's display name (``route`` field, e.g. "layer-projected
    # DOS edges") and mentions the grid step.
    flagged = {
        warning.split(":", 1)[0]
        for warning in alignment.get("warnings", [])
        if "grid step" in warning
    }
    return {key for key, route in routes.items() if route.get("route") in flagged}


def _alignment_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    alignment = summary.get("band_alignment")
    if not alignment:
        return [("band alignment", NOT_RUN)]
    unresolved = _unresolved_routes(alignment)
    overall = str(alignment.get("alignment_type"))
    if "projected_dos" in unresolved:
        overall += UNRESOLVED
    rows = [("alignment type", overall)]
    for name, route in alignment.get("routes", {}).items():
        rows.append(
            (
                f"ΔE_C / ΔE_V ({name})",
                f"{_fmt(route.get('conduction_offset_ev'), 'eV')} / "
                f"{_fmt(route.get('valence_offset_ev'), 'eV')} "
                f"(type {route.get('alignment_type')}{UNRESOLVED if name in unresolved else ''})",
            )
        )
    lineup = alignment.get("potential_lineup")
    if lineup:
        uncertainty = lineup.get("delta_v_uncertainty_ev")
        step = _fmt(lineup.get("delta_v_ev"), "eV")
        if uncertainty is not None:
            step += f" ± {uncertainty:.3f} (no plateau)" if "warning" in lineup else ""
        rows.append(("potential step ΔV = V̄_A − V̄_B", step))
    for label, key in (
        ("domain gaps (middle layers)", "domain_gaps_ev"),
        ("strained bulk gaps", "bulk_gaps_ev"),
    ):
        gaps = alignment.get(key)
        if gaps:
            rows.append((label, ", ".join(f"{d} {_fmt(g, 'eV')}" for d, g in gaps.items())))
    rows.append(
        (
            "sign convention",
            f"{alignment.get('sign_convention', '')}; A = {alignment.get('domain_a')}, "
            f"B = {alignment.get('domain_b')}",
        )
    )
    return rows


def _series_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The thickness series: each model's offsets by the verdict's route, the converged
    values, the gap-corrected ΔE_C and the type verdict beside the paper's statement."""
    series = summary.get("alignment_series")
    if not series:
        return [("alignment thickness series", NOT_RUN)]
    verdict = series["verdict"]
    route = verdict.get("route")
    models = [
        f"{row['model']} ({row['n_atoms']} at.) {_fmt(row['valence_offset_ev'])} / "
        f"{_fmt(row['conduction_offset_ev'])} ({row['alignment_type']})"
        for row in series["rows"]
        if row["route"] == route
    ]
    rows = [(f"series ΔE_V / ΔE_C in eV ({route})", "; ".join(models))]
    for value in series["converged"]:
        if value["route"] != route:
            continue
        state = "converged" if value["converged"] else f"not converged: {value['reason']}"
        rows.append(
            (
                f"thickest-model Δ{'E_V' if value['quantity'] == 'valence' else 'E_C'}",
                f"{_fmt(value['value_ev'], 'eV')} ± {_fmt(value['uncertainty_ev'])} ({state})",
            )
        )
    corrected = [
        f"{c['gap_source']} {_fmt(c['conduction_offset_ev'], 'eV')} ({c['alignment_type']})"
        for c in series["corrections"]
    ]
    rows.append(("ΔE_C = ΔE_V + ΔE_g, by gap source", "; ".join(corrected)))
    rows.append(("type verdict", f"{verdict['alignment_type']}: {verdict['reason']}"))
    paper = series.get("paper")
    if paper:
        rows.append(("paper's statement", paper["statement"]))
    return rows


def _transfer_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    states = summary.get("charge_transfer_states")
    if not states:
        return [("IS/FS states", NOT_RUN)]
    rows = []
    for role in ("initial", "final"):
        state = states.get(role, {})
        weights = state.get("domain_weights", {})
        rows.append(
            (
                f"{role} state",
                f"band {state.get('band')} at k {state.get('k_index')}, "
                f"{_fmt(state.get('energy_ev'), 'eV')}; domains "
                + ", ".join(f"{k} {v:.2f}" for k, v in weights.items())
                + f"; {_element_character(state)}",
            )
        )
    return rows + _transfer_model_rows(summary, states)


def _transfer_model_rows(summary: dict[str, Any], states: dict[str, Any]) -> list[tuple[str, str]]:
    """Which model the IS/FS (and the NA stage) use, and their IS–FS gap against the
    converged ΔE_C of the thickness series: thin-model states sit at confined levels."""
    report = summary.get("build_report") or {}
    spec = report.get("spec", {})
    model = (
        f"{spec.get('perovskite_planes')}+{spec.get('chalcogenide_planes')} planes, "
        f"{report.get('n_atoms')} atoms"
        if report
        else "given structure"
    )
    rows = [("IS/FS and NA model", model)]
    series = summary.get("alignment_series")
    if series and states.get("energy_gap_ev") is not None:
        verdict = series["verdict"]
        rows.append(
            (
                "IS–FS gap vs converged ΔE_C",
                f"{_fmt(states['energy_gap_ev'], 'eV')} vs "
                f"{_fmt(verdict.get('conduction_offset_ev'), 'eV')} "
                f"({verdict.get('gap_source')} gaps, {verdict.get('route')})",
            )
        )
    return rows


def _element_character(state: dict[str, Any]) -> str:
    """Element shares of a state, ranked by the real-space Bader partition of |ψ|².

    Why Bader first: projection weights are normalised over the atomic basis and inflate
    elements with diffuse projectors (Cs in pslibrary NC/PAW, docs/state-character.md).
    """
    shares = dict(state.get("element_shares", {}))
    if "element_weights" in state:
        shares.setdefault("projection", state["element_weights"])
    for method in ("bader", "voronoi", "projection"):
        if shares.get(method):
            ranked = sorted(shares[method].items(), key=lambda kv: -kv[1])[:3]
            return f"elements ({method}) " + ", ".join(f"{k} {v:.2f}" for k, v in ranked)
    return "elements not analysed"


MD_ROWS = {
    "temperature_mean_k": ("MD temperature, NVE mean ± std", "K"),
    "target_temperature_k": ("MD target temperature", "K"),
    "drift_ev_per_atom_per_ps": ("MD total-energy drift (NVE)", "eV/atom/ps"),
    "duration_fs": ("MD NVE length", "fs"),
    "n_frames": ("MD frames", ""),
    "kinetic_energy_mean_ev": ("MD mean kinetic energy", "eV"),
    "potential_energy_change_ev": ("MD potential-energy change over NVE", "eV"),
}
"""Stored MD diagnostics shown in the report: key → (row name, unit)."""


def _md_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The MD diagnostics by name and unit, and the thermalisation verdict in words."""
    diagnostics = summary.get("md_diagnostics")
    if not diagnostics:
        return [("AIMD", NOT_RUN)]
    rows = []
    for key, (name, unit) in MD_ROWS.items():
        value = diagnostics.get(key)
        if not isinstance(value, int | float):
            continue
        text = _fmt(value, unit, digits=4 if "drift" in key else 3)
        if key == "temperature_mean_k" and "temperature_std_k" in diagnostics:
            text = f"{value:.0f} ± {diagnostics['temperature_std_k']:.0f} K"
        rows.append((name, text))
    if "thermalised" in diagnostics:
        verdict = "yes" if diagnostics["thermalised"] else "no"
        note = diagnostics.get("thermalisation_note")
        rows.append(("MD thermalised", f"{verdict}: {note}" if note else verdict))
    return rows


def summary_table(summary: dict[str, Any]) -> str:
    """Markdown table of the headline numbers; steps not run say so."""
    rows = [
        ("pair", summary.get("pair", "?")),
        ("level of theory", summary.get("level_of_theory", "?")),
    ]
    rows += _strain_rows(summary) + _alignment_rows(summary) + _series_rows(summary)
    rows += _transfer_rows(summary)
    rows += _md_rows(summary) + _na_rows(summary) + peak_rows(summary)
    lines = ["| quantity | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) + "\n"


def _na_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    spectral = summary.get("spectral_summary")
    dynamics = summary.get("dynamics_summary")
    if not spectral and not dynamics:
        return [("NA dynamics", NOT_RUN)]
    rows = []
    if spectral:
        peaks = ", ".join(f"{peak:.0f}" for peak in spectral.get("peaks_cm", [])) or "none"
        rows += [
            (
                "IS–FS gap along MD",
                f"{_fmt(spectral.get('mean_gap_ev'))} ± {_fmt(spectral.get('gap_std_ev'))} eV",
            ),
            (
                "spectral peaks (cm⁻¹)",
                f"{peaks} (resolution {_fmt(spectral.get('resolution_cm'), digits=0)} cm⁻¹)",
            ),
            ("pure dephasing", spectral.get("dephasing", {}).get("summary", "?")),
        ]
    if dynamics:
        rows += [
            (
                f"τ_ET ({dynamics.get('method', '?')})",
                dynamics.get("transfer", {}).get("summary", "?"),
            ),
            ("τ_relax", dynamics.get("relaxation", {}).get("summary", "?")),
        ]
    return rows + _na_provenance_rows(spectral or {}, dynamics or {})


def _na_provenance_rows(
    spectral: dict[str, Any], dynamics: dict[str, Any]
) -> list[tuple[str, str]]:
    """How the NA numbers were obtained: carrier window, dephasing convention, population."""
    window = dynamics.get("carrier_window") or {}
    bands = window.get("bands")
    carrier = window.get("carrier") or "carrier not recorded"
    rows = [
        (
            "NA carrier window",
            f"{carrier}, pw.x bands {bands[0]}–{bands[-1]}" if bands else NOT_RUN,
        )
    ]
    conventions = []
    if spectral.get("dephasing_convention"):
        conventions.append(f"pure dephasing: {spectral['dephasing_convention']}")
    if dynamics.get("dephasing_convention"):
        conventions.append(f"DISH decoherence: {dynamics['dephasing_convention']}")
    rows.append(("dephasing convention", "; ".join(conventions) or "not recorded"))
    if dynamics:
        rows.append(("τ_ET fitted to", dynamics.get("transfer_population") or "not recorded"))
    return rows


def write_report(pipeline: orm.WorkflowNode, outdir: Path) -> dict[str, Path]:
    """Write ``summary.md``, every figure a step stored (PNG, and SVG where it made one) and
    the figures drawn now from stored data (:mod:`workflows.provenance.report_figures`)
    into ``outdir``; return the paths by output label."""
    if "summary" not in pipeline.outputs:  # checked first: a refused report makes no folder
        raise ValueError(
            f"process <{pipeline.pk}> has no `summary` output: is it a finished janus.pipeline?"
        )
    outdir.mkdir(parents=True, exist_ok=True)
    written = {"summary": outdir / "summary.md"}
    summary = pipeline.outputs.summary.get_dict()
    written["summary"].write_text(provenance_header(pipeline, summary) + summary_table(summary))
    seen = set()
    for _, step in called_processes(stored_pk(pipeline)):
        for link in step.base.links.get_outgoing(node_class=orm.SinglefileData).all():
            node = link.node
            suffix = Path(node.filename).suffix
            if node.pk in seen or suffix not in FIGURE_SUFFIXES:
                continue
            seen.add(node.pk)
            # Two figures with one label in this study get the PK as suffix; a file left
            # by an earlier report of the folder is overwritten, not kept beside.
            key = (
                link.link_label
                if link.link_label not in written
                else f"{link.link_label}_{node.pk}"
            )
            path = outdir / f"{key.removesuffix(VECTOR_LABEL_SUFFIX)}{suffix}"
            path.write_bytes(node.get_content(mode="rb"))
            written[key] = path
    drawn, problems = study_figures(pipeline, outdir)
    written |= drawn
    figures = {k: p.name for k, p in written.items() if p.suffix in LISTED_SUFFIXES}
    with written["summary"].open("a", encoding="utf-8") as handle:
        handle.write(figure_section(figures, problems))
    return written
