"""The demo study on the embedded profile (grows with the pipeline)."""

from __future__ import annotations

import time

import click


def run_demo(profile_name: str, computer_label: str) -> None:
    """Run the largest part of the study that exists, with real QE, and print its results."""
    from aiida.engine import run_get_node
    from aiida.orm import StructureData, load_code
    from ase.build import bulk

    from heterostructures.bands import band_gap
    from workflows.pw_builders import pw_base_builder
    from workflows.setup.profile import ensure_profile

    ensure_profile(profile_name)
    code = load_code(f"pw@{computer_label}")
    structure = StructureData(ase=bulk("CdS", "zincblende", a=5.832))
    builder = pw_base_builder(code, structure, protocol="fast")
    start = time.perf_counter()
    _, node = run_get_node(builder)
    elapsed = time.perf_counter() - start
    if not node.is_finished_ok:
        raise click.ClickException(f"PwBaseWorkChain<{node.pk}> failed: exit {node.exit_status}")
    params = node.outputs.output_parameters.get_dict()
    gap = band_gap(node.outputs.output_band.get_bands(), params["number_of_electrons"])
    click.echo(f"PwBaseWorkChain<{node.pk}> zinc-blende CdS (PBE, pslibrary PAW)")
    click.echo(f"  total energy   {params['energy']:.6f} eV")
    click.echo(f"  band gap       {gap.gap_ev:.3f} eV ({'direct' if gap.direct else 'indirect'})")
    click.echo(f"  wall time      {elapsed:.1f} s")
