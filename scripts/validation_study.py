"""Submit the ≥ 1 ps validation study of issue 24 (item 5) to the AiiDA daemon.

The demo study (CsPbBr3/CdS, ``fast`` protocol, the 13-atom model) with one change: 1000 fs
of NVE instead of 100, so the gap spectral density resolves 1/(1000 fs · c) ≈ 33 cm⁻¹.
The gap series comes from the MD's own per-step Kohn–Sham energies; the NA snapshot SCFs
(NACs for the populations) cover only the first ``--window`` fs of NVE, as in the demo.
Everything else is the demo's, so its steps before the MD come from AiiDA's cache.

Run it where the demo profile lives, with the daemon started::

    aiida-janus daemon start
    python scripts/validation_study.py --profile janus --nve 1000 --window 100
    aiida-janus status <PK>
    aiida-janus report <PK> -o docs/validation/report

Cost on the 2-core machine of docs/measurements.md: 6–9 s per MD step at 2 ranks
(second-order extrapolation, quiet to loaded), so 1000 steps of 1 fs are 2–2.5 h; with
``--timestep 2`` (its NVE drift is reported against the protocol's bound) about half.
Plus ~10 s per snapshot SCF.
"""

from __future__ import annotations

import argparse


def main() -> None:
    """Parse the options, build the study as `aiida-janus submit` does, submit it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="AiiDA profile (default: AiiDA's).")
    parser.add_argument("--computer", default="localhost", help="Computer label.")
    parser.add_argument("--nve", type=float, default=1000.0, help="NVE time (fs).")
    parser.add_argument("--window", type=float, default=100.0, help="NA snapshot window (fs).")
    parser.add_argument("--timestep", type=float, default=1.0, help="MD time step (fs).")
    arguments = parser.parse_args()

    from aiida.engine import submit

    from workflows.cli.study import study_codes
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes(arguments.profile, arguments.computer),
        "CsPbBr3",
        "CdS",
        "fast",
        overrides={
            "aimd": {
                "production_time_fs": arguments.nve,
                "snapshot_window_fs": arguments.window,
                "timestep_fs": arguments.timestep,
            }
        },
    )
    builder.metadata.label = (
        f"validation: demo model, {arguments.nve:g} fs NVE at {arguments.timestep:g} fs"
    )
    node = submit(builder)
    print(f"submitted validation study <{node.pk}> (UUID {node.uuid})")


if __name__ == "__main__":
    main()
