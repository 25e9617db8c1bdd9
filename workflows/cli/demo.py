"""The demo study: the whole pipeline on the embedded profile with real QE (fast protocol)."""

from __future__ import annotations

import time
from pathlib import Path

import click


def run_demo(profile_name: str, computer_label: str, output: Path, verbose: bool = False) -> None:
    """Run CsPbBr3/CdS with the fast protocol, then write its report into ``output``.

    ``demo`` is, with ``setup``, the one command that creates its profile when missing.
    ``verbose`` shows AiiDA's report lines above the progress view.
    """
    from aiida.orm import WorkflowNode

    from workflows.cli.study import build_study, launch_study
    from workflows.provenance.report import write_report
    from workflows.setup.profile import load_study_profile

    load_study_profile(profile_name)
    study = build_study("CsPbBr3", "CdS", "fast", computer_label, None, (), profile_name)
    start = time.perf_counter()
    node = launch_study(study.builder, daemon=False, verbose=verbose)
    elapsed = time.perf_counter() - start
    assert isinstance(node, WorkflowNode)
    if not node.is_finished_ok:
        raise click.ClickException(
            f"demo study <{node.pk}> failed ({node.exit_status}): {node.exit_message}; "
            f"see `verdi process report {node.pk}`"
        )
    paths = write_report(node, output)
    click.echo(paths["summary"].read_text())
    click.echo(f"demo study <{node.pk}> finished in {elapsed / 60:.1f} min; report in {output}/")
