"""``janus.charge_densities``: |ψ|² of the initial and final states of interfacial transfer.

IS/FS are chosen on projwfc.x projections
(:func:`heterostructures.electronic.densities.select_transfer_states`) or given explicitly; one
pp.x run (``plot_num = 7``, one k-point and band) per state writes a Gaussian cube that
stays in the retrieved folder (file repository, openable in VESTA/Ovito); only the
summary (indices, energies, fractions, element shares by projections and by real-space
Bader/Voronoi partitions, normalised spatial overlap) and a picture go into the
database. The calcfunctions ``transfer_states`` and ``transfer_densities`` record the
choice and the analysis; the workchain runs their plain-Python twins (``select_states``,
``analyse_densities``) first, so bad input ends it before anything half-done is stored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ExitCode, ToContext, WorkChain, calcfunction

from heterostructures.electronic.densities import (
    PARTITION,
    TransferStates,
    domain_fractions,
    layer_partition,
    line_density,
    select_transfer_states,
    spatial_overlap,
)
from heterostructures.electronic.projected_dos import ElectronicStructureError
from heterostructures.electronic.real_space_partition import (
    BADER,
    VORONOI,
    element_ranking,
    real_space_shares,
)
from heterostructures.io.cube import read_cube
from heterostructures.io.projwfc_files import read_atomic_projections, read_atomic_states
from heterostructures.plots.electronic import plot_transfer_densities
from workflows.calcfunctions.electronic import ATOMIC_PROJ, CUBE_FILE, PROJWFC_STDOUT, SiteLabels
from workflows.calculations.pp_cube import CubePpCalculation
from workflows.inputs.site_labels import LabelError, check_labels
from workflows.inputs.transfer_states import (
    DEFAULT_SELECTION,
    ROLES,
    state_parameters,
    validate_density_inputs,
)
from workflows.protocols import JanusProtocolMixin


def select_states(folder: Path, labels: SiteLabels, settings: dict[str, Any]) -> TransferStates:
    """IS/FS from a projwfc.x folder; ``settings``: donor, acceptor, carrier, threshold, k_index.

    ``k_index`` is a 1-based k-point, ``None`` (search all) or ``"gamma"``: the NA snapshots
    of the pipeline are Γ-only, so the states they follow must be Γ states.
    """
    projections = read_atomic_projections(folder / ATOMIC_PROJ)
    return select_transfer_states(
        projections,
        read_atomic_states(folder / PROJWFC_STDOUT),
        labels.domains,
        labels.layers,
        donor=settings["donor"],
        acceptor=settings["acceptor"],
        carrier=settings.get("carrier", "electron"),
        threshold=float(settings.get("threshold", 0.5)),
        k_index=resolve_k_index(settings.get("k_index"), projections.k_points),
    )


def resolve_k_index(k_index: int | str | None, k_points: Any) -> int | None:
    """A 1-based k-point index; ``"gamma"`` becomes the index of Γ in ``k_points``."""
    if k_index != "gamma":
        return None if k_index is None else int(k_index)
    norms = np.linalg.norm(np.asarray(k_points, dtype=float), axis=1)
    if norms.size == 0 or norms.min() > 1e-6:
        raise ElectronicStructureError(
            "k_index 'gamma': the NSCF k-points do not include Γ; use a Γ-centred mesh "
            "(no shift) or give a k-point index"
        )
    return int(np.argmin(norms)) + 1


def transfer_states_dict(transfer: TransferStates) -> dict[str, Any]:
    """JSON form of the IS/FS choice (1-based k-point and band, as pp.x wants them)."""

    def state(character: Any) -> dict[str, Any]:
        return {
            "k_index": character.k_index,
            "band": character.band,
            "energy_ev": character.energy_ev,
            "domain_weights": character.domain_weights,
            "element_weights": character.element_weights,
            "layer_weights": {f"{d} layer {n}": w for (d, n), w in character.layer_weights.items()},
        }

    return {
        "carrier": transfer.carrier,
        "donor": transfer.donor,
        "acceptor": transfer.acceptor,
        "threshold": transfer.threshold,
        "initial": state(transfer.initial),
        "final": state(transfer.final),
        "energy_gap_ev": transfer.energy_gap_ev,
        "explanation": transfer.explanation,
    }


@calcfunction
def transfer_states(
    projections: orm.FolderData,
    structure: orm.StructureData,
    site_labels: orm.Dict,
    settings: orm.Dict,
) -> orm.Dict:
    """Record the IS/FS choice made on a projwfc.x retrieved folder."""
    labels = SiteLabels.from_nodes(structure, site_labels)
    with projections.base.repository.as_path() as folder:
        chosen = select_states(Path(folder), labels, settings.get_dict())
    return orm.Dict(transfer_states_dict(chosen))


def element_shares(grid: Any, symbols: list[str]) -> dict[str, dict[str, float]]:
    """Element shares of a |ψ|² cube by the Bader and Voronoi real-space partitions."""
    return {
        method: real_space_shares(grid, method, symbols).element_shares
        for method in ("bader", "voronoi")
    }


def analyse_densities(
    initial_cube: Path, final_cube: Path, labels: SiteLabels, plot_path: Path
) -> dict[str, Any]:
    """Norms, layer/domain fractions (spatial partition), element shares (Bader, Voronoi)
    and the normalised ∫|ψ_IS||ψ_FS| of two pp.x cubes."""
    grids = {"initial": read_cube(initial_cube), "final": read_cube(final_cube)}
    summary: dict[str, Any] = {
        "partition": PARTITION,
        "element_partitions": {"bader": BADER, "voronoi": VORONOI},
    }
    lines = {}
    for role, grid in grids.items():
        layers = layer_partition(grid, labels.z_ang, labels.domains, labels.layers)
        lines[role] = line_density(grid)
        summary[role] = {
            "norm": grid.integral(),
            "layer_fractions": {f"{d} layer {n}": f for (d, n), f in layers.items()},
            "domain_fractions": domain_fractions(layers),
            "element_shares": element_shares(grid, labels.symbols),
        }
    summary["spatial_overlap"] = spatial_overlap(grids["initial"], grids["final"])
    z = lines["initial"][0]
    plot_transfer_densities(
        z, lines["initial"][1], lines["final"][1], labels.z_ang, labels.symbols,
        labels.domains, plot_path,
    )  # fmt: skip
    return summary


@calcfunction
def transfer_densities(
    states: orm.Dict,
    initial: orm.FolderData,
    final: orm.FolderData,
    structure: orm.StructureData,
    site_labels: orm.Dict,
) -> dict[str, orm.Data]:
    """IS/FS summary Dict (choice + spatial analysis) and the planar-average PNG."""
    labels = SiteLabels.from_nodes(structure, site_labels)
    with (
        initial.base.repository.as_path() as initial_folder,
        final.base.repository.as_path() as final_folder,
        tempfile.TemporaryDirectory() as scratch,
    ):
        plot = Path(scratch) / "transfer_densities.png"
        spatial = analyse_densities(
            Path(initial_folder) / CUBE_FILE, Path(final_folder) / CUBE_FILE, labels, plot
        )
        picture = orm.SinglefileData(file=plot)
    return {
        "summary": orm.Dict(combine_summary(states.get_dict(), spatial)),
        "density_plot": picture,
    }


def combine_summary(states: dict[str, Any], spatial: dict[str, Any]) -> dict[str, Any]:
    """IS/FS choice + spatial analysis; each role gets ``element_shares`` by every method.

    ``projection`` (Löwdin shares, normalised over the pseudo-atomic basis: diffuse
    projectors such as the NC Cs 6s inflate their element) sits next to the real-space
    ``bader`` and ``voronoi`` shares of the same |ψ|², so a reader sees both.
    """
    summary = states | {"spatial": spatial}
    for role in ROLES:
        shares = dict(spatial[role]["element_shares"])
        if "element_weights" in states.get(role, {}):
            shares["projection"] = states[role]["element_weights"]
        summary[role] = summary.get(role, {}) | {"element_shares": shares}
    return summary


def describe_element_shares(summary: dict[str, Any]) -> str:
    """One line per role: elements ranked by each method, largest share first."""
    lines = []
    for role in ROLES:
        ranked = []
        for method, shares in summary[role]["element_shares"].items():
            top = ", ".join(f"{e} {shares[e]:.2f}" for e in element_ranking(shares)[:3])
            ranked.append(f"{method}: {top}")
        lines.append(f"{role} state element shares — " + "; ".join(ranked))
    return "\n".join(lines)


class ChargeDensitiesWorkChain(JanusProtocolMixin, WorkChain):
    """IS/FS selection, one pp.x per state, localisation fractions and spatial overlap."""

    _protocol_file = "charge_densities.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """Inputs: labelled structure, parent folder, states or projections + selection."""
        super().define(spec)
        spec.input("structure", valid_type=orm.StructureData)
        spec.input(
            "site_labels", valid_type=orm.Dict, help="workflows.inputs.site_labels site labels."
        )
        spec.input(
            "parent_folder",
            valid_type=orm.RemoteData,
            help="pw.x folder whose states are plotted (the NSCF of janus.electronic).",
        )
        spec.input(
            "projections",
            valid_type=orm.FolderData,
            required=False,
            help="projwfc.x files of the same states (janus.electronic `projections_folder`).",
        )
        spec.input(
            "selection",
            valid_type=orm.Dict,
            required=False,
            help="donor, acceptor (domain labels), carrier electron|hole, threshold 0…1, k_index.",
        )
        spec.input(
            "states",
            valid_type=orm.Dict,
            required=False,
            help="Explicit {initial: {k_index, band}, final: {k_index, band}} (1-based).",
        )
        spec.expose_inputs(
            CubePpCalculation, namespace="pp", exclude=("parent_folder", "parameters")
        )
        spec.inputs.validator = validate_density_inputs
        spec.outline(cls.setup, cls.run_pp, cls.inspect_pp, cls.inspect_densities, cls.results)
        spec.output("summary", valid_type=orm.Dict, help="IS/FS indices, energies, fractions.")
        spec.output("density_plot", valid_type=orm.SinglefileData, help="Planar averages (PNG).")
        spec.exit_code(
            202,
            "ERROR_NO_TRANSFER_STATES",
            message="no IS/FS pair passes the selection: {error}",
        )
        spec.exit_code(301, "ERROR_DENSITY_ANALYSIS", message="cannot analyse the cubes: {error}")
        spec.exit_code(
            401,
            "ERROR_SUB_PROCESS_FAILED_PP",
            message="pp.x for the {role} state <{pk}> failed with exit status {status}",
        )

    def _labels(self) -> SiteLabels:
        return SiteLabels.from_nodes(self.inputs.structure, self.inputs.site_labels)

    def setup(self) -> ExitCode | None:
        """Choose IS/FS (plain Python first, then recorded by a calcfunction) or take them."""
        if "states" in self.inputs:
            self.ctx.states = self.inputs.states
            return None
        settings = DEFAULT_SELECTION | self.inputs.selection.get_dict()
        try:
            with self.inputs.projections.base.repository.as_path() as folder:
                chosen = select_states(Path(folder), self._labels(), settings)
        except ElectronicStructureError as error:
            return self.exit_codes.ERROR_NO_TRANSFER_STATES.format(error=error)
        self.report(transfer_states_dict(chosen)["explanation"])
        self.ctx.states = transfer_states(
            self.inputs.projections,
            self.inputs.structure,
            self.inputs.site_labels,
            orm.Dict(settings),
        )
        return None

    def run_pp(self) -> Any:
        """One pp.x per state, all linked to the same parent folder."""
        calcs = {}
        for role in ROLES:
            state = self.ctx.states[role]
            inputs = AttributeDict(self.exposed_inputs(CubePpCalculation, namespace="pp"))
            inputs.parent_folder = self.inputs.parent_folder
            inputs.parameters = orm.Dict(state_parameters(state["k_index"], state["band"]))
            inputs.metadata.call_link_label = f"pp_{role}"
            calcs[role] = self.submit(CubePpCalculation, **inputs)
        return ToContext(**calcs)

    def inspect_pp(self) -> ExitCode | None:
        """Stop with a 4xx code naming the failed pp.x run."""
        for role in ROLES:
            node = self.ctx[role]
            if not node.is_finished_ok:
                return self.exit_codes.ERROR_SUB_PROCESS_FAILED_PP.format(
                    role=role, pk=node.pk, status=node.exit_status
                )
        return None

    def inspect_densities(self) -> ExitCode | None:
        """Analyse the cubes in plain Python first: a failure stores nothing half-done."""
        try:
            with (
                self.ctx.initial.outputs.retrieved.base.repository.as_path() as initial,
                self.ctx.final.outputs.retrieved.base.repository.as_path() as final,
                tempfile.TemporaryDirectory() as scratch,
            ):
                analyse_densities(
                    Path(initial) / CUBE_FILE,
                    Path(final) / CUBE_FILE,
                    self._labels(),
                    Path(scratch) / "check.png",
                )
        except (ElectronicStructureError, LabelError) as error:
            return self.exit_codes.ERROR_DENSITY_ANALYSIS.format(error=error)
        return None

    def results(self) -> None:
        """Summary Dict and picture, recorded by a calcfunction."""
        outputs = transfer_densities(
            self.ctx.states,
            self.ctx.initial.outputs.retrieved,
            self.ctx.final.outputs.retrieved,
            self.inputs.structure,
            self.inputs.site_labels,
        )
        self.out("summary", outputs["summary"])
        self.report(describe_element_shares(outputs["summary"].get_dict()))
        self.out("density_plot", outputs["density_plot"])

    @classmethod
    def get_builder_from_protocol(
        cls,
        code_pp: orm.AbstractCode,
        structure: orm.StructureData,
        site_labels: orm.Dict,
        parent_folder: orm.RemoteData | None = None,
        projections: orm.FolderData | None = None,
        donor: str | None = None,
        acceptor: str | None = None,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> Any:
        """Builder selecting IS (on ``donor``) and FS (on ``acceptor``) from ``projections``.

        Without ``projections`` set ``builder.states`` or ``builder.selection`` yourself;
        without ``parent_folder`` the caller provides it at run time (``janus.pipeline``).
        Raises ``ValueError`` subclasses for an unknown protocol or labels that do not
        fit, before storing.
        """
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        check_labels(site_labels.get_dict(), len(structure.sites))
        builder = cls.get_builder()
        builder.structure = structure
        builder.site_labels = site_labels
        if parent_folder is not None:
            builder.parent_folder = parent_folder
        if projections is not None:
            builder.projections = projections
            selection = inputs["selection"] | {"donor": donor, "acceptor": acceptor}
            builder.selection = orm.Dict(selection)
        metadata = inputs["pp"]["metadata"]
        metadata["options"] = metadata.get("options", {}) | (options or {})
        builder.pp = {"code": code_pp, "metadata": metadata}
        return builder
