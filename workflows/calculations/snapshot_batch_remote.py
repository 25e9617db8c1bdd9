"""Per-frame results of a ``janus.snapshot_batch`` job, computed next to the wavefunctions.

Shipped with the job (see :mod:`workflows.calculations.snapshot_batch_files`) and run by
its driver after each frame's pw.x as ``python3 janus_frame_results.py CONFIG FRAME
SECONDS``: the remote needs Python 3 and numpy only. It calls the project's own reader and
overlap code (:func:`heterostructures.dynamics.nac.overlap_between_runs`, the same call as
today's ``snapshot_pair_overlap`` calcfunction), so the numbers cannot drift from the
AiiDA-side path. ``scipy`` (imported by ``nac`` for state tracking, which runs later on
the AiiDA side) is replaced by a stand-in that refuses to be used when it is missing.

Per frame it writes ``results/frame_NNNN.npz`` (window energies in eV; with a previous
frame the raw overlap ⟨i(t)|j(t+dt)⟩ of the band window and that frame's energies; domain
weights per band when labels are given; the gauge fingerprint of frames listed in
``gauge_frames``) and then ``results/frame_NNNN.json`` (SCF facts;
written last, so its presence marks a finished frame), and deletes the previous frame's
wavefunction checkpoint. Never imports AiiDA.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

RESULTS = "results"
CHECKPOINTS = "frames"
PAIR_FACTS = ("ecutwfc_ry", "band_window", "domains")
"""Attributes of a pair node besides its arrays (``snapshot_pair_overlap`` sets them; the
batch parser and the chain-boundary re-phasing copy them)."""


FRAME_PREFIX = "frame_"


def frame_name(frame: int) -> str:
    """``frame_NNNN``: the stem of a frame's input, checkpoint and result files."""
    return f"{FRAME_PREFIX}{frame:04d}"


def frame_position(stem: str) -> int | None:
    """The position a :func:`frame_name` stem names (any number of digits), else None."""
    digits = stem[len(FRAME_PREFIX) :]
    numbered = stem.startswith(FRAME_PREFIX) and digits.isascii() and digits.isdigit()
    return int(digits) if numbered else None


def _refuse_tracking(*_: Any, **__: Any) -> Any:
    raise RuntimeError("state tracking runs on the AiiDA side, not in a snapshot batch job")


def _numpy_only() -> None:
    """Let ``heterostructures.dynamics.nac`` import where scipy is not installed."""
    try:
        importlib.import_module("scipy.optimize")
    except ImportError:
        optimize = types.ModuleType("scipy.optimize")
        optimize.linear_sum_assignment = _refuse_tracking  # type: ignore[attr-defined]
        sys.modules.setdefault("scipy", types.ModuleType("scipy"))
        sys.modules["scipy.optimize"] = optimize


def scf_facts(save: Path) -> dict[str, Any]:
    """Convergence, SCF steps, pw.x's own wall time (s) and valence electron count from
    ``data-file-schema.xml``: the count gives the highest occupied band, which the
    pipeline maps the electronic step's IS/FS bands with (a batch job has no
    ``output_parameters``). A value the XML lacks is None (JSON null: AiiDA refuses to
    store a NaN, and the frame's other results would be lost with it)."""
    root = ET.parse(save / "data-file-schema.xml").getroot()
    achieved = root.findtext("output/convergence_info/scf_conv/convergence_achieved", "false")
    steps = root.findtext("output/convergence_info/scf_conv/n_scf_steps", "0")
    wall = root.findtext("timing_info/total/wall")
    electrons = root.findtext("output/band_structure/nelec")
    return {
        "converged": achieved.strip() == "true",
        "n_scf_steps": int(steps),
        "pw_wall_seconds": None if wall is None else float(wall),
        "number_of_electrons": None if electrons is None else float(electrons),
    }


def _window_weights(folder: Path, config: dict[str, Any], frame: int) -> Any:
    from heterostructures.dynamics.nac import read_snapshot
    from heterostructures.electronic.domain_weights import domain_partition, domain_weights

    labels = config["site_labels"]
    heights = config["fractional_z"][str(frame)]
    partition = domain_partition(heights, labels["domain"], labels["layer"])
    _, wavefunction = read_snapshot(folder, config["prefix"], tuple(config["band_window"]))
    return domain_weights(wavefunction, partition), list(partition.domains)


def gauge_arrays(folder: Path, prefix: str, window: tuple[int, int]) -> dict[str, Any]:
    """The frame's gauge fingerprint (largest coefficients per window band), for a frame
    computed in two jobs (a chain's lead-in): the phases between them are found later.
    Stored as int16 Miller indices and complex64 coefficients (a phase needs no more)."""
    from heterostructures.dynamics.nac import read_snapshot
    from heterostructures.io.wavefunctions import gauge_fingerprint

    _, wavefunction = read_snapshot(folder, prefix, window)
    miller, coefficients = gauge_fingerprint(wavefunction)
    return {
        "gauge_miller": miller.astype("int16"),
        "gauge_coefficients": coefficients.astype("complex64"),
    }


def frame_arrays(
    folder: Path, previous: Path | None, config: dict[str, Any], frame: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Window energies (eV), domain weights and, with ``previous`` (the checkpoint of
    frame − 1), the raw overlap with it; and the SCF facts. Folders hold ``<prefix>.save``.
    """
    import numpy as np

    from heterostructures.dynamics.nac import overlap_between_runs
    from heterostructures.io.wavefunctions import band_structure_of_run, validate_band_window

    prefix, window = config["prefix"], tuple(config["band_window"])
    bands = band_structure_of_run(folder, prefix)
    first, last = validate_band_window(window, bands.n_bands, str(folder))
    arrays: dict[str, Any] = {"energies_ket_ev": bands.energies_ev[0, first - 1 : last]}
    facts = scf_facts(folder / f"{prefix}.save")
    facts |= {"ecutwfc_ry": bands.ecutwfc_ry, "band_window": [first, last]}
    labelled = config.get("site_labels") is not None
    if labelled:
        arrays["domain_weights_ket"], facts["domains"] = _window_weights(folder, config, frame)
    if frame in config.get("gauge_frames", []):
        arrays |= gauge_arrays(folder, prefix, window)
    if previous is not None:
        arrays["overlap"] = overlap_between_runs(
            previous, folder, window, prefix, orthonormalize=config.get("orthonormalize", False)
        )
    return {name: np.asarray(value) for name, value in arrays.items()}, facts


def finish_frame(workdir: Path, config: dict[str, Any], frame: int, pw_seconds: float) -> None:
    """Write the results of ``frame`` (its checkpoint is in ``frames/``), then drop the
    previous frame's checkpoint; the json, written last, marks the frame finished."""
    import numpy as np

    checkpoints, results = workdir / CHECKPOINTS, workdir / RESULTS
    results.mkdir(exist_ok=True)
    previous = checkpoints / frame_name(frame - 1)
    before = results / f"{frame_name(frame - 1)}.npz"
    has_previous = before.is_file() and previous.is_dir()
    arrays, facts = frame_arrays(
        checkpoints / frame_name(frame), previous if has_previous else None, config, frame
    )
    if has_previous:  # the bra side exactly as frame − 1 stored it
        with np.load(before) as stored:
            arrays |= {
                name.replace("_ket", "_bra"): stored[name]
                for name in ("energies_ket_ev", "domain_weights_ket")
                if name in stored
            }
    facts["driver_pw_seconds"] = pw_seconds
    stem = results / frame_name(frame)
    with open(f"{stem}.npz.part", "wb") as stream:
        np.savez(stream, **arrays)
    os.replace(f"{stem}.npz.part", f"{stem}.npz")
    Path(f"{stem}.json.part").write_text(json.dumps(facts, sort_keys=True))
    os.replace(f"{stem}.json.part", f"{stem}.json")
    if has_previous:
        shutil.rmtree(previous)


def main(arguments: list[str]) -> int:
    """``CONFIG FRAME PW_SECONDS`` → results of FRAME; exit 2 with a message on bad use."""
    if len(arguments) != 3:
        print("usage: janus_frame_results.py CONFIG.json FRAME PW_SECONDS", file=sys.stderr)
        return 2
    _numpy_only()
    config = json.loads(Path(arguments[0]).read_text())
    finish_frame(Path.cwd(), config, int(arguments[1]), float(arguments[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
