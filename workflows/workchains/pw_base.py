"""``janus.pw_base``: aiida-quantumespresso's PwBaseWorkChain that recovers a diverging SCF.

The CalcJob monitor ``janus.scf_divergence`` (:mod:`workflows.engine.monitors`) stops a pw.x run
whose SCF diverges or oscillates; aiida-core then fails the calculation with the exit code
``STOPPED_BY_MONITOR`` that all monitors share. aiida-quantumespresso 5.1 handles that code
only for its own ``accuracy_stuck`` monitor (by message prefix) and leaves ours unhandled,
so ``on_unhandled_failure='restart_once'`` would re-run identical inputs. The handler here
claims our monitor's message instead: it restarts once from scratch (the diverged density
is useless) with :data:`SAFE_MIXING`, and if the SCF is stopped again it ends the restart
loop with ``ERROR_SCF_DIVERGED``, which a caller can turn into an actionable exit code.
"""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import ProcessHandlerReport, process_handler
from aiida_quantumespresso.calculations.pw import PwCalculation
from aiida_quantumespresso.common.types import RestartType
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge
from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

from workflows.engine.monitors import STOP_PREFIX
from workflows.engine.stranded import SealsStrandedChildren

# Kerker-like local Thomas-Fermi mixing, a small step and a long Broyden history damp the
# charge sloshing of slabs and polar stacks; a narrow Gaussian smearing (0.005 Ry ≈ 68 meV)
# stops occupations flipping between near-degenerate states at Γ.
SAFE_MIXING: dict[str, dict[str, Any]] = {
    "ELECTRONS": {"mixing_mode": "local-TF", "mixing_beta": 0.1, "mixing_ndim": 12},
    "SYSTEM": {"occupations": "smearing", "smearing": "gaussian", "degauss": 0.005},
}


def stopped_for_divergence(calculation: orm.CalcJobNode) -> bool:
    """True if ``janus.scf_divergence`` (not another monitor) stopped ``calculation``."""
    return (calculation.exit_message or "").startswith(STOP_PREFIX)


class JanusPwBaseWorkChain(SealsStrandedChildren, PwBaseWorkChain):
    """PwBaseWorkChain plus one safe-mixing restart of a SCF stopped by our monitor."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """PwBaseWorkChain's spec and the exit code of a SCF that diverged twice."""
        super().define(spec)
        spec.exit_code(
            330,
            "ERROR_SCF_DIVERGED",
            message="the SCF diverged or oscillated (janus.scf_divergence) also after a restart "
            "with safe mixing (local-TF β 0.1, Gaussian smearing 0.005 Ry)",
        )

    def setup(self) -> None:
        """PwBaseWorkChain's setup; safe mixing has not been tried yet."""
        super().setup()
        self.ctx.safe_mixing_applied = False

    @process_handler(priority=603, exit_codes=[PwCalculation.exit_codes.STOPPED_BY_MONITOR])
    def handle_scf_divergence(self, calculation: orm.CalcJobNode) -> ProcessHandlerReport | None:
        """Restart once from scratch with :data:`SAFE_MIXING`; a second stop is final.

        Runs before aiida-quantumespresso's ``handle_electronic_convergence_stuck`` (602)
        and breaks the handler loop, so no other handler acts on the same calculation.
        Messages of other monitors are left to the handlers that own them.
        """
        if not stopped_for_divergence(calculation):
            return None
        if self.ctx.safe_mixing_applied:
            self.report_error_handled(calculation, "safe mixing was already applied: aborting")
            return ProcessHandlerReport(True, self.exit_codes.ERROR_SCF_DIVERGED)
        self.ctx.inputs.parameters = recursive_merge(self.ctx.inputs.parameters, SAFE_MIXING)
        self.set_restart_type(RestartType.FROM_SCRATCH)
        self.ctx.safe_mixing_applied = True
        self.report_error_handled(
            calculation, "restarting from scratch with safe mixing (local-TF β 0.1) and smearing"
        )
        return ProcessHandlerReport(True)
