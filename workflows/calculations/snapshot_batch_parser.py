"""Parser ``janus.snapshot_batch``: per-frame result files → the pair nodes of the NA assembly.

Each frame with a predecessor becomes ``pairs.pair_NNNN`` (NNNN: the predecessor's snapshot
position), an ``ArrayData`` with the arrays and attributes of
:func:`workflows.calcfunctions.na.snapshot_pair_overlap` (``overlap``, ``energies_bra_ev``,
``energies_ket_ev``, optional ``domain_weights_bra``/``_ket``; ``ecutwfc_ry``,
``band_window``, ``domains``), so ``assemble_na_hamiltonian`` takes them unchanged.
Frames asked for their gauge fingerprint (a chain's lead-in) give ``gauges.gauge_NNNN``.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from aiida import orm
from aiida.parsers import Parser

from heterostructures.dynamics.nac import SnapshotMismatchError, check_same_cutoff
from workflows.calculations.snapshot_batch_files import DRIVER_LOG
from workflows.calculations.snapshot_batch_remote import PAIR_FACTS, frame_name

LOG_TAIL_LINES = 3
GAUGE_ARRAYS = ("gauge_miller", "gauge_coefficients")


def pair_node(arrays: dict[str, np.ndarray], facts: dict[str, Any]) -> orm.ArrayData:
    """One pair as ``snapshot_pair_overlap`` stores it (or a gauge fingerprint: no facts)."""
    node = orm.ArrayData()
    for name in sorted(arrays):
        node.set_array(name, arrays[name])
    for name in PAIR_FACTS:
        if name in facts:
            node.base.attributes.set(name, facts[name])
    return node


class SnapshotBatchParser(Parser):
    """Read ``frame_NNNN.{npz,json}`` of every frame of the batch, in order."""

    def _read(self, name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        retrieved = self.retrieved
        files = set(retrieved.base.repository.list_object_names())
        if f"{name}.json" not in files or f"{name}.npz" not in files:
            return None
        facts = json.loads(retrieved.base.repository.get_object_content(f"{name}.json", mode="r"))
        content = retrieved.base.repository.get_object_content(f"{name}.npz", mode="rb")
        with np.load(io.BytesIO(content)) as stored:
            arrays = {key: stored[key] for key in stored.files}
        return arrays, facts

    def _log_tail(self) -> str:
        try:
            text = self.retrieved.base.repository.get_object_content(DRIVER_LOG, mode="r")
        except FileNotFoundError:
            return "no driver log"
        return " | ".join(text.strip().splitlines()[-LOG_TAIL_LINES:]) or "empty driver log"

    def parse(self, **kwargs: Any) -> Any:
        """Pairs and frame facts; 351 (resumable) when frames are missing, 352 unconverged."""
        node = self.node
        first = node.inputs.first_position.value
        positions = [first + offset for offset in range(len(node.inputs.frames))]
        facts_per_frame, missing, unconverged = [], [], []
        reference_cutoff = None
        for position in positions:
            result = self._read(frame_name(position))
            if result is None:
                missing.append(position)
                continue
            arrays, facts = result
            reference_cutoff = reference_cutoff or facts["ecutwfc_ry"]
            try:
                check_same_cutoff(facts["ecutwfc_ry"], reference_cutoff, f"frame {position}")
            except SnapshotMismatchError as error:
                return self.exit_codes.ERROR_CUTOFF_MISMATCH.format(error=str(error))
            facts_per_frame.append({"position": position, **facts})
            if not facts["converged"]:
                unconverged.append(position)
            gauge = {name: arrays.pop(name) for name in GAUGE_ARRAYS if name in arrays}
            if gauge:
                self.out(f"gauges.gauge_{position:04d}", pair_node(gauge, {}))
            if "overlap" in arrays:
                self.out(f"pairs.pair_{position - 1:04d}", pair_node(arrays, facts))
        self.out("frame_facts", orm.Dict({"frames": facts_per_frame}))
        if len(missing) == len(positions):
            return self.exit_codes.ERROR_NO_RESULTS.format(log=self._log_tail())
        if missing:
            return self.exit_codes.ERROR_INCOMPLETE_BATCH.format(
                missing=missing, log=self._log_tail()
            )
        if unconverged:
            return self.exit_codes.ERROR_SCF_NOT_CONVERGED.format(frames=unconverged)
        return None
