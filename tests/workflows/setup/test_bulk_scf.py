"""Real pw.x SCF of zinc-blende CdS through PwBaseWorkChain with the offline PAW family."""

from __future__ import annotations

import numpy as np
import pytest
from aiida.engine import run_get_node
from aiida.orm import StructureData
from ase.build import bulk

from heterostructures.electronic.bands import band_gap
from workflows.inputs.pw_builders import pw_base_builder
from workflows.setup.codes import register_computer_and_codes
from workflows.setup.paths import PROFILES_DIR
from workflows.setup.pseudos import FAMILY_LABELS, install_pseudo_family


@pytest.mark.real_qe
@pytest.mark.usefixtures("aiida_profile")
def test_pseudo_families_install_with_cutoffs() -> None:
    for flavour in ("paw", "nc"):
        family = install_pseudo_family(flavour)
        assert family.label == FAMILY_LABELS[flavour]
        assert {"Cs", "Pb", "Br", "Cl", "I", "Cd", "Zn", "S"} <= set(family.elements)
        wfc, rho = family.get_recommended_cutoffs(elements=("Cd", "S"), unit="Ry")
        assert wfc > 0
        assert rho >= 4 * wfc
    assert install_pseudo_family("paw").pk == install_pseudo_family("paw").pk, "idempotent"


@pytest.mark.real_qe
@pytest.mark.usefixtures("localhost")
def test_cds_zincblende_scf_physics() -> None:
    codes = register_computer_and_codes(PROFILES_DIR / "computer-localhost.yaml")
    install_pseudo_family("paw")
    structure = StructureData(ase=bulk("CdS", "zincblende", a=5.832))
    builder = pw_base_builder(codes["pw"], structure, protocol="fast")
    _, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_status
    params = node.outputs.output_parameters.get_dict()
    assert params["convergence_info"]["scf_conv"]["convergence_achieved"]
    gap = band_gap(node.outputs.output_band.get_bands(), params["number_of_electrons"])
    assert 0.7 < gap.gap_ev < 1.6, "PBE gap of ZB CdS (exp. 2.4 eV, PBE underestimates)"
    assert gap.direct, "ZB CdS has a direct gap at Gamma"
    forces = node.outputs.output_trajectory.get_array("forces")[-1]
    assert np.abs(forces).max() < 1e-3, "forces vanish by symmetry in ZB"
