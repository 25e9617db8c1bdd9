"""The script a ``janus.snapshot_batch`` job runs next to the wavefunctions.

References: today's path, the ``snapshot_pair_overlap`` calcfunction reading the same
recorded real pw.x 6.7 wavefunctions (tests/fixtures/qe67_wfc_cds_nc_gamma) through a
RemoteData, and a direct numpy overlap Σ_G a*(G) b(G) over the full G sphere (Γ-only
half sphere unfolded with c(−G) = c(G)*, plane waves matched by a Python dict).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "qe67_wfc_cds_nc_gamma"
WINDOW = [8, 11]
LABELS = {"domain": ["cd_plane", "s_plane"], "layer": [0, 0], "fixed": [False, False]}
CELL_ANG = 11.0172 * 0.529177210903 / 2 * np.array([[-1, 0, 1], [0, 1, 1], [-1, 1, 0]])
S_CRYSTAL = {0: [0.25, 0.25, 0.25], 1: [0.26, 0.25, 0.25]}
# Run the shipped script with ASE, scipy and AiiDA unimportable: the remote has numpy only.
NUMPY_ONLY = """
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('ase', 'scipy', 'aiida', 'workflows'):
            raise ImportError(f'{name} is not on the remote')
sys.meta_path.insert(0, Block())
sys.path.insert(0, 'janus_remote')
sys.argv = ['janus_frame_results.py', *sys.argv[1:]]
runpy.run_path('janus_remote/janus_frame_results.py', run_name='__main__')
"""


def _fractional_z(snapshot: int) -> list[float]:
    return [0.0, S_CRYSTAL[snapshot][2]]


def _run_remote(job: Path, frame: int) -> None:
    command = [sys.executable, "-c", NUMPY_ONLY, "janus_batch.json", str(frame), "0.5"]
    environment = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(command, cwd=job, check=True, env=environment, capture_output=True)


def _job_folder(tmp_path: Path) -> Path:
    from workflows.calculations.snapshot_batch_files import shipped_files

    job = tmp_path / "job"
    for relative, text in shipped_files().items():
        (job / relative).parent.mkdir(parents=True, exist_ok=True)
        (job / relative).write_text(text)
    config = {
        "prefix": "cds",
        "band_window": WINDOW,
        "orthonormalize": False,
        "site_labels": {"domain": LABELS["domain"], "layer": LABELS["layer"]},
        "fractional_z": {str(s): _fractional_z(s) for s in (0, 1)},
    }
    (job / "janus_batch.json").write_text(json.dumps(config))
    for snapshot in (0, 1):
        save = job / "frames" / f"frame_{snapshot:04d}" / "cds.save"
        shutil.copytree(FIXTURE / f"snapshot_{snapshot}" / "cds.save", save)
    return job


def _structure(snapshot: int) -> Any:
    from aiida.orm import StructureData

    structure = StructureData(cell=CELL_ANG.tolist())
    structure.append_atom(position=[0.0, 0.0, 0.0], symbols="Cd")
    structure.append_atom(position=(np.array(S_CRYSTAL[snapshot]) @ CELL_ANG).tolist(), symbols="S")
    return structure


def _todays_pair(tmp_path: Path, localhost: object) -> Any:
    from aiida.orm import Dict, RemoteData

    from workflows.calcfunctions.na import snapshot_pair_overlap

    remotes = []
    for snapshot in (0, 1):
        remote_dir = tmp_path / f"remote_{snapshot}"
        shutil.copytree(FIXTURE / f"snapshot_{snapshot}" / "cds.save", remote_dir / "out/cds.save")
        remotes.append(RemoteData(computer=localhost, remote_path=str(remote_dir)))
    return snapshot_pair_overlap(
        remotes[0],
        remotes[1],
        Dict({"band_window": WINDOW, "prefix": "cds"}),
        bra_structure=_structure(0),
        ket_structure=_structure(1),
        site_labels=Dict(LABELS),
    )


def _direct_overlap(first: int, last: int) -> np.ndarray:
    """Σ_G a*(G) b(G) over the unfolded sphere, plane waves matched by Miller triple."""
    from heterostructures.io.wavefunctions import read_wavefunction

    spheres = []
    for snapshot in (0, 1):
        wfc = read_wavefunction(FIXTURE / f"snapshot_{snapshot}/cds.save/wfc1.dat", (first, last))
        sphere = {}
        for g, miller in enumerate(map(tuple, wfc.miller_indices)):
            sphere[miller] = wfc.coefficients[:, g]
            sphere[tuple(-m for m in miller)] = wfc.coefficients[:, g].conj()
        spheres.append(sphere)
    keys = sorted(spheres[0])
    bra = np.array([spheres[0][k] for k in keys]).T
    ket = np.array([spheres[1][k] for k in keys]).T
    return np.asarray((bra.conj() @ ket.T).real)


def test_remote_script_equals_todays_path_and_direct_overlap(
    tmp_path: Path, localhost: object
) -> None:
    """Numpy-only run of the shipped script = the calcfunction path = a direct overlap."""
    job = _job_folder(tmp_path)
    _run_remote(job, 0)
    _run_remote(job, 1)
    results = job / "results"
    assert not (job / "frames" / "frame_0000").exists()  # spent wavefunctions deleted
    assert (job / "frames" / "frame_0001").is_dir()  # the next batch restarts from it
    with np.load(results / "frame_0001.npz") as stored:
        remote = {name: stored[name] for name in stored.files}
    facts = json.loads((results / "frame_0001.json").read_text())
    today = _todays_pair(tmp_path, localhost)
    for name in today.get_arraynames():
        np.testing.assert_allclose(remote[name], today.get_array(name), rtol=0, atol=1e-13)
    assert sorted(remote) == sorted(today.get_arraynames())
    assert facts["domains"] == today.base.attributes.get("domains")
    assert facts["band_window"] == today.base.attributes.get("band_window")
    assert facts["ecutwfc_ry"] == pytest.approx(25.0)
    assert facts["converged"] is True
    assert facts["n_scf_steps"] > 0
    # pw.x's XML count = "number of electrons = 18.00" of the same run's text output.
    pw_out = (FIXTURE / "snapshot_1" / "pw.out").read_text()
    printed = re.search(r"number of electrons\s*=\s*(\S+)", pw_out)
    assert printed
    assert facts["number_of_electrons"] == pytest.approx(float(printed.group(1)))
    np.testing.assert_allclose(remote["overlap"], _direct_overlap(*WINDOW), atol=1e-12)


def test_remote_script_refuses_bad_use(tmp_path: Path) -> None:
    """Wrong arguments: exit 2 and a usage line, no traceback."""
    job = _job_folder(tmp_path)
    command = [sys.executable, "-c", NUMPY_ONLY, "janus_batch.json"]
    run = subprocess.run(command, cwd=job, env={"PATH": "/usr/bin:/bin"}, capture_output=True)
    assert run.returncode == 2
    assert b"usage: janus_frame_results.py CONFIG.json FRAME PW_SECONDS" in run.stderr


def test_frame_position_reads_back_frame_name() -> None:
    """Reference: :func:`frame_name` itself, round trip; other stems name no frame."""
    from workflows.calculations.snapshot_batch_remote import frame_name, frame_position

    for position in (0, 7, 9999, 10000):
        assert frame_position(frame_name(position)) == position
    for stem in ("aiida", "frame_", "frame_12a", "xframe_0001"):
        assert frame_position(stem) is None
