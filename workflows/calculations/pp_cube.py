"""``janus.pp_cube``: pp.x linking its parent folder and keeping the cube it writes.

Parsed by aiida-quantumespresso's own ``quantumespresso.pp`` parser (stdout checks); the
grid is not parsed into an ``ArrayData``: the cube stays in the retrieved folder (file
repository, openable in VESTA/Ovito) and the analysis reads it from there.
"""

from __future__ import annotations

from typing import Any

from aiida_quantumespresso.calculations.pp import PpCalculation


class CubePpCalculation(PpCalculation):
    """pp.x linking (not copying) the parent folder and keeping the cube in ``retrieved``.

    pp.x only reads the parent's ``out/`` and writes its files in its own working
    directory (checked with QE 6.7: nothing appears under ``outdir``), so symlinks let
    many runs share one parent. The grid is not parsed into an ``ArrayData``.
    """

    @classmethod
    def define(cls, spec: Any) -> None:
        """aiida-qe's spec with cube kept, not parsed; ``output_data`` becomes optional."""
        super().define(spec)
        spec.inputs["metadata"]["options"]["keep_data_files"].default = True
        spec.inputs["metadata"]["options"]["parse_data_files"].default = False
        spec.outputs["output_data"].required = False

    def prepare_for_submission(self, folder: Any) -> Any:
        """aiida-qe's inputs with the parent ``out/`` and ``pseudo/`` symlinked."""
        calcinfo = super().prepare_for_submission(folder)
        calcinfo.remote_symlink_list = list(calcinfo.remote_copy_list)
        calcinfo.remote_copy_list = []
        return calcinfo
