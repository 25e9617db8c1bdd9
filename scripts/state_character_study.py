"""NC vs PAW element shares of the IS/FS of the demo superlattice (docs/state-character.md).

Usage, from a scratch folder holding ``model/interface.extxyz`` written by
``aiida-janus build --periodic --perovskite-planes 3 --chalcogenide-planes 2 -o model``:

    python state_character_study.py inputs nc 30 4      # writes nc/scf.in, nc/projwfc.in
    python state_character_study.py inputs paw 30 8
    (cd nc && pw.x -in scf.in > scf.out && projwfc.x -in projwfc.in > projwfc.out)
    python state_character_study.py analyse nc          # pp.x of IS, FS; nc/state_character.json

Pseudopotentials: the set-up's pslibrary 1.0.0 families under ``$JANUS_WORK_DIR/pseudos``.
The IS/FS are chosen as the pipeline does (``select_transfer_states``, Γ, threshold 0.5).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ase.io import read
from ase.io.espresso import write_espresso_in

from heterostructures.electronic.densities import select_transfer_states, spatial_overlap
from heterostructures.electronic.real_space_partition import (
    METHODS,
    element_ranking,
    real_space_shares,
)
from heterostructures.io.cube import read_cube
from heterostructures.io.projwfc_files import read_atomic_projections, read_atomic_states

FAMILIES = {"nc": "janus_pslibrary-1.0.0_PBE_NC", "paw": "janus_pslibrary-1.0.0_PBE_PAW"}
MODEL = Path("model/interface.extxyz")


def write_inputs(flavour: str, ecutwfc: float, dual: float) -> None:
    """pw.x SCF (Γ, local-TF β 0.3, 16 empty bands) and projwfc.x inputs in ``flavour/``."""
    atoms = read(MODEL)
    pseudo_dir = Path(os.environ["JANUS_WORK_DIR"]) / "pseudos" / FAMILIES[flavour]
    pseudos = {p.name.split(".")[0]: p.name for p in pseudo_dir.glob("*.UPF")}
    valence = {}
    for element, name in pseudos.items():
        header = (pseudo_dir / name).read_text(errors="ignore").split("z_valence=")[1]
        valence[element] = float(header.split('"')[1])
    n_electrons = round(sum(valence[s] for s in atoms.get_chemical_symbols()))
    parameters = {
        "control": {"calculation": "scf", "prefix": "sl", "outdir": "./out"},
        "system": {"ecutwfc": ecutwfc, "ecutrho": ecutwfc * dual, "nbnd": n_electrons // 2 + 16},
        "electrons": {"conv_thr": 1e-8, "mixing_mode": "local-TF", "mixing_beta": 0.3},
    }
    parameters["control"]["pseudo_dir"] = str(pseudo_dir)
    folder = Path(flavour)
    folder.mkdir(exist_ok=True)
    with open(folder / "scf.in", "w") as handle:
        write_espresso_in(handle, atoms, input_data=parameters, pseudopotentials=pseudos)
    (folder / "projwfc.in").write_text(
        "&PROJWFC\n  prefix = 'sl'\n  outdir = './out'\n  filpdos = 'sl.pdos'\n/\n"
    )


def plot_state(folder: Path, band: int) -> Path:
    """|ψ|² of (Γ, band) as a Gaussian cube by pp.x (plot_num 7), reused when present."""
    cube = folder / f"psi2_B{band:03d}.cube"
    if not cube.exists():
        (folder / f"pp_{band}.in").write_text(
            f"&INPUTPP\n  prefix='sl'\n  outdir='./out'\n  filplot='psi2_{band}'\n  plot_num=7\n"
            f"  kpoint(1)=1\n  kband(1)={band}\n  lsign=.false.\n/\n"
            f"&PLOT\n  iflag=3\n  output_format=6\n  fileout='{cube.name}'\n/\n"
        )
        with open(folder / f"pp_{band}.out", "w") as out:
            subprocess.run(["pp.x", "-in", f"pp_{band}.in"], cwd=folder, stdout=out, check=True)
    return cube


def analyse(folder: Path) -> dict:
    """IS/FS by projections, their cubes, element shares by every method, overlap."""
    atoms = read(MODEL)
    domains = [str(d) for d in atoms.arrays["domain"]]
    layers = [int(x) for x in atoms.arrays["layer"]]
    projections = read_atomic_projections(folder / "out/sl.save/atomic_proj.xml")
    states = read_atomic_states(folder / "projwfc.out")
    transfer = select_transfer_states(
        projections, states, domains, layers, "perovskite", "chalcogenide", k_index=1
    )
    result: dict = {"explanation": transfer.explanation}
    grids = {}
    for role, character in (("IS", transfer.initial), ("FS", transfer.final)):
        grids[role] = read_cube(plot_state(folder, character.band))
        shares = {"projection": character.element_weights}
        for method in METHODS:
            shares[method] = real_space_shares(grids[role], method).element_shares
        result[role] = {
            "band": character.band,
            "energy_ev": character.energy_ev,
            "domain_weights_projection": character.domain_weights,
            "element_shares": shares,
            "rankings": {method: element_ranking(s) for method, s in shares.items()},
        }
    result["spatial_overlap"] = spatial_overlap(grids["IS"], grids["FS"])
    (folder / "state_character.json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        write_inputs(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        print(json.dumps(analyse(Path(sys.argv[2])), indent=1))
