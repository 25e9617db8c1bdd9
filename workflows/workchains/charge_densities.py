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

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ExitCode, ToContext, WorkChain

from heterostructures.electronic.projected_dos import ElectronicStructureError
from workflows.calcfunctions.charge_densities import (
    analyse_densities,
    describe_element_shares,
    select_states,
    transfer_densities,
    transfer_states,
    transfer_states_dict,
)
from workflows.calcfunctions.electronic import CUBE_FILE, SiteLabels
from workflows.calculations.pp_cube import CubePpCalculation
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.site_labels import LabelError, check_labels
from workflows.inputs.transfer_states import (
    DEFAULT_SELECTION,
    ROLES,
    state_parameters,
    validate_density_inputs,
)
from workflows.protocols import JanusProtocolMixin


class ChargeDensitiesWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
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
