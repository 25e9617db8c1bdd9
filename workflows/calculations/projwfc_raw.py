"""``janus.projwfc_raw``: projwfc.x keeping its own files, no ``ProjectionData``.

Why not aiida-quantumespresso's parser: it builds one ``ProjectionData`` orbital per
projection (slow, and more than the analysis needs at interface sizes). This CalcJob
keeps projwfc.x's files (``aiida.pdos*``, ``atomic_proj.xml``) in the retrieved folder
instead, and :mod:`workflows.calcfunctions.electronic` reads them with numpy readers.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiida import orm
from aiida_quantumespresso.calculations.projwfc import ProjwfcCalculation

from workflows.calcfunctions.electronic import ATOMIC_PROJ, PREFIX


class RawProjwfcCalculation(ProjwfcCalculation):
    """projwfc.x keeping ``aiida.pdos*`` and ``atomic_proj.xml``; no ``ProjectionData``.

    Parsing only checks that the run finished and wrote the files the analysis reads.
    """

    _retrieve_temporary_list: ClassVar[list[str]] = []

    @classmethod
    def define(cls, spec: Any) -> None:
        """aiida-qe's ``ProjwfcCalculation`` spec; its DOS outputs become optional."""
        super().define(spec)
        spec.outputs["Dos"].required = False

    def prepare_for_submission(self, folder: Any) -> Any:
        """aiida-qe's input file and parent copy, plus the raw files in the retrieve list."""
        calcinfo = super().prepare_for_submission(folder)
        save = f"{self._OUTPUT_SUBFOLDER.strip('./')}/{PREFIX}.save"
        calcinfo.retrieve_list += [(f"{PREFIX}.pdos*", ".", 0), (f"{save}/{ATOMIC_PROJ}", ".", 0)]
        calcinfo.retrieve_temporary_list = []
        return calcinfo

    def parse_retrieved_output(self, retrieved_temporary_folder: str | None = None) -> Any:
        """Exit codes of aiida-qe for a missing stdout, an unfinished run or missing files."""
        retrieved = self.node.outputs.retrieved
        names = retrieved.base.repository.list_object_names()
        stdout = self.inputs.metadata.options.output_filename
        if stdout not in names:
            return self.exit_codes.ERROR_OUTPUT_STDOUT_MISSING
        if "JOB DONE" not in retrieved.base.repository.get_object_content(stdout):
            return self.exit_codes.ERROR_OUTPUT_STDOUT_INCOMPLETE
        if f"{PREFIX}.pdos_tot" not in names:
            return self.exit_codes.ERROR_MISSING_PDOSTOT_FILE
        if ATOMIC_PROJ not in names:
            return self.exit_codes.ERROR_OUTPUT_XML_MISSING
        pdos_files = sum(name.startswith(f"{PREFIX}.pdos_atm#") for name in names)
        self.out("output_parameters", orm.Dict({"pdos_files": pdos_files}))
        return None
