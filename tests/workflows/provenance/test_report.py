"""``aiida-janus report``'s table: every headline number, and 'not run' for skipped steps."""

from __future__ import annotations

from typing import Any

from workflows.provenance.report import summary_table

NA_SUMMARY = {
    "spectral_summary": {
        "mean_gap_ev": 1.169,
        "gap_std_ev": 0.018,
        "peaks_cm": [365.2, 120.4],
        "resolution_cm": 33.4,
        "dephasing": {"summary": "τ = 55.76 ± 1.2 fs"},
    },
    "dynamics_summary": {
        "method": "dish",
        "transfer": {"summary": "τ = 801 ± 40 fs"},
        "relaxation": {"summary": "τ = 1218 ± 60 fs"},
    },
}


def test_table_has_na_rows_with_resolution() -> None:
    table = summary_table({"pair": "CsPbBr3/CdS", **NA_SUMMARY})
    assert "| spectral peaks (cm⁻¹) | 365, 120 (resolution 33 cm⁻¹) |" in table
    assert "| τ_ET (dish) | τ = 801 ± 40 fs |" in table
    assert "| τ_relax | τ = 1218 ± 60 fs |" in table
    assert "| pure dephasing | τ = 55.76 ± 1.2 fs |" in table


def test_skipped_steps_say_not_run() -> None:
    table = summary_table({"pair": "CsPbBr3/CdS"})
    assert "| NA dynamics | not run |" in table
    assert "| AIMD | not run |" in table


def test_table_says_how_the_na_numbers_were_obtained() -> None:
    """The carrier window, the dephasing conventions and the fitted population are in
    the report (copied from the NA summaries, wording of workflows/calcfunctions/na.py)."""
    dynamics: dict[str, Any] = {
        "method": "dish",
        "dephasing_convention": "pyxaid",
        "transfer_population": "P_perovskite(t) = sum_i P_i(t) w_i^perovskite(t)",
        "carrier_window": {"bands": [10, 11], "carrier": "electron"},
    }
    spectral = {"dephasing_convention": "libra"}
    table = summary_table({"spectral_summary": spectral, "dynamics_summary": dynamics})
    assert "| NA carrier window | electron, pw.x bands 10–11 |" in table
    assert "| dephasing convention | pure dephasing: libra; DISH decoherence: pyxaid |" in table
    assert "| τ_ET fitted to | P_perovskite(t) = sum_i P_i(t) w_i^perovskite(t) |" in table


def test_state_elements_are_ranked_by_the_real_space_partition() -> None:
    """The report ranks a state's elements by Bader, not by projections (which inflate Cs:
    docs/state-character.md); the shares here are the NC demo IS of that document."""
    state = {
        "band": 51,
        "k_index": 1,
        "energy_ev": 3.7,
        "domain_weights": {"perovskite": 0.8, "chalcogenide": 0.2},
        "element_weights": {"Cs": 0.34, "Pb": 0.32, "Br": 0.14},
        "element_shares": {"bader": {"Pb": 0.50, "Br": 0.20, "Cd": 0.15, "Cs": 0.0}},
    }
    table = summary_table({"charge_transfer_states": {"initial": state, "final": {}}})
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if "state" in line}
    assert "elements (bader) Pb 0.50, Br 0.20, Cd 0.15" in rows["initial state"]
    assert "elements not analysed" in rows["final state"]


DEMO_ROUTES = {
    "projected_dos": {
        "route": "layer-projected DOS edges",
        "valence_offset_ev": 0.024,
        "conduction_offset_ev": 0.015,
        "alignment_type": "II",
    },
    "eigenvalues": {
        "route": "Kohn-Sham eigenvalues",
        "valence_offset_ev": 0.256,
        "conduction_offset_ev": -0.741,
        "alignment_type": "I",
    },
}
"""The 0.4 demo's routes (stored band_alignment, PK 2742 in its profile): projected-DOS
offsets +0.024 / +0.015 eV on a 0.05 eV grid, eigenvalue offsets −0.741 / +0.256 eV."""


def _assert_only_pdos_route_unresolved(table: str) -> None:
    assert "| alignment type | II, not resolved: ΔE_V and ΔE_C both smaller than" in table
    assert "(type II, not resolved" in table
    assert "(type I)" in table


def test_offsets_below_the_pdos_grid_step_are_reported_as_not_resolved() -> None:
    """The 0.4 demo's projected-DOS offsets carry no sign, so neither the overall type nor
    the route's type may be stated bare. The analysis itself decides
    (``alignment_analysis._with_resolution``) and stores ``resolved`` per route; the report
    reads that boolean. The eigenvalue route stays resolved."""
    import numpy as np

    from heterostructures.electronic.alignment_analysis import (
        _unresolved_warnings,
        _with_resolution,
    )

    routes = _with_resolution(DEMO_ROUTES, np.arange(-5.0, 5.0, 0.05))
    assert routes["projected_dos"]["resolved"] is False
    assert "0.050 eV (PDOS grid step)" in routes["projected_dos"]["unresolved_reason"]
    assert routes["eigenvalues"]["resolved"] is True
    alignment = {"alignment_type": "II", "routes": routes, "warnings": []}
    _assert_only_pdos_route_unresolved(summary_table({"band_alignment": alignment}))
    # The warning text is still written for a reader, starting with the route's name.
    assert _unresolved_warnings(routes) == [
        f"layer-projected DOS edges: {routes['projected_dos']['unresolved_reason']}"
    ]


def test_report_reads_the_boolean_not_the_warning_text() -> None:
    """A route renamed in the analysis (display name not in any warning) is still flagged,
    and a grid-step warning naming a route that is stored ``resolved: true`` flags nothing:
    the old code matched the warning's prefix against the display name and got both wrong."""
    routes = {
        "projected_dos": DEMO_ROUTES["projected_dos"]
        | {"route": "PDOS edges (renamed)", "resolved": False},
        "eigenvalues": DEMO_ROUTES["eigenvalues"] | {"resolved": True},
    }
    warnings = ["Kohn-Sham eigenvalues: |ΔE_V|, |ΔE_C| < 0.050 eV (PDOS grid step)"]
    alignment = {"alignment_type": "II", "routes": routes, "warnings": warnings}
    _assert_only_pdos_route_unresolved(summary_table({"band_alignment": alignment}))


def test_alignments_stored_before_the_flag_fall_back_to_the_warning() -> None:
    """A band_alignment stored before ``resolved`` existed (the 0.4 demo's, warning text
    copied from it) is still read: the warning names the route by its display name."""
    warning = (
        "layer-projected DOS edges: |ΔE_V|, |ΔE_C| < 0.050 eV (PDOS grid step); the "
        "alignment type is not resolved (domains too thin for bulk-like middle layers?)"
    )
    alignment = {"alignment_type": "II", "routes": DEMO_ROUTES, "warnings": [warning]}
    _assert_only_pdos_route_unresolved(summary_table({"band_alignment": alignment}))
