"""``aiida-janus query …``, ``status`` and ``export``: read a study back from provenance.

Thin wrappers over :mod:`workflows.provenance.queries` and
:mod:`workflows.provenance.process_status`; every bad
input (unknown PK, a node that is not a workflow, a key that is not there) ends as one
``Error:`` line. Read-only: they open an existing profile and never create one
(:mod:`workflows.cli.profiles`); identifiers are PK, UUID (prefix) or label.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from workflows.cli.params import PROTOCOLS, NodeParam, OutputPath
from workflows.cli.profiles import profile_option, use_profile
from workflows.provenance.queries import PIPELINE_PROCESS_TYPE

TRACE_SECTIONS = (
    "structure",
    "parameters",
    "pseudopotential",
    "kpoints",
    "code",
    "data",
    "calculation",
    "intermediate",
)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn the queries' ``ValueError`` subclasses into one-line CLI errors."""
    try:
        yield
    except ValueError as exception:
        raise click.ClickException(str(exception)) from exception


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _model_wall(record: Any, model: str) -> str:
    """A model's summed run time (s), ``cached`` when nothing of it ran, ``-`` when unknown."""
    if model not in record.wall_seconds:
        return "-"
    seconds = record.wall_seconds[model]
    return "cached" if seconds is None else _seconds(seconds)


@click.group("query")
def query() -> None:
    """Ask the provenance graph about studies.

    \b
    Examples:
      aiida-janus query studies --perovskite CsPbBr3 --chalcogenide CdS --protocol fast
      aiida-janus query calcs 1234
      aiida-janus query trace 1234 routes.projected_dos.conduction_offset_ev
      aiida-janus query diff 1234 1302
    """


def print_alignment_records(records: list[Any]) -> None:
    """One table per series: model, atoms, period, route, ΔE_V, ΔE_C, type, cost; then the
    converged values and the type verdict."""
    for record in records:
        study = f", study <{record.study_pk}>" if record.study_pk is not None else ""
        click.echo(f"janus.alignment <{record.pk}> {record.pair}{study}")
        click.echo(
            f"  {'model':<6} {'atoms':>5} {'period/Å':>8}  {'route':<17} {'ΔE_V/eV':>8} "
            f"{'ΔE_C/eV':>8}  type  wall/s"
        )
        for row in record.rows:
            wall = _model_wall(record, f"p{row['perovskite_planes']}_c{row['chalcogenide_planes']}")
            click.echo(
                f"  {row['model']:<6} {row['n_atoms']:>5} {row['period_ang']:>8.2f}  "
                f"{row['route']:<17} {_ev(row['valence_offset_ev']):>8} "
                f"{_ev(row['conduction_offset_ev']):>8}  {row['alignment_type']:<5} "
                f"{wall:>6}"
            )
        for value in record.converged:
            state = "converged" if value["converged"] else "NOT converged"
            click.echo(
                f"  {value['route']} {value['quantity']}: {_ev(value['value_ev'])} ± "
                f"{_ev(value['uncertainty_ev'])} eV ({state}, model {value['model']})"
            )
        verdict = record.verdict
        click.echo(f"  type: {verdict.get('alignment_type')} — {verdict.get('reason', '')}")


def _ev(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


@query.command("alignment")
@click.option("--perovskite", default=None, help="Only this perovskite, e.g. CsPbBr3.")
@click.option("--chalcogenide", default=None, help="Only this chalcogenide, e.g. CdS.")
@profile_option
def alignment_series(
    perovskite: str | None, chalcogenide: str | None, profile_name: str | None
) -> None:
    """Band offsets against model thickness of every finished janus.alignment, newest first.

    \b
    Examples:
      aiida-janus query alignment
      aiida-janus query alignment --perovskite CsPbBr3 --chalcogenide CdS
    """
    from workflows.provenance.alignment_queries import alignment_records

    use_profile(profile_name)
    with clear_errors():
        records = alignment_records(perovskite, chalcogenide)
    if not records:
        click.echo("no finished janus.alignment: run `aiida-janus alignment` or a study")
        return
    print_alignment_records(records)


@query.command("calcs")
@click.argument("workflow", metavar="PK", type=NodeParam("workflow"))
@click.option("--inputs/--no-inputs", default=True, show_default=True, help="Show key inputs.")
@profile_option
def calcs(workflow: Any, inputs: bool, profile_name: str | None) -> None:
    """List every calculation a study ran: code, state, job id, runtime (s), inputs.

    \b
    Examples:
      aiida-janus query calcs 1234
      aiida-janus query calcs 1234 --no-inputs
    """
    from workflows.provenance.queries import list_calculations

    use_profile(profile_name)
    with clear_errors():
        records = list_calculations(workflow.pk)
    click.echo(f"{'PK':>6}  {'step':<40} {'process':<24} {'code':<22} state      job  runtime/s")
    for r in records:
        state = r.state if r.exit_status in (None, 0) else f"{r.state}[{r.exit_status}]"
        click.echo(
            f"{r.pk:>6}  {r.call_path:<40} {r.process_label:<24} {r.code or '-':<22} "
            f"{state:<9} {r.job_id or '-':>6} {_seconds(r.runtime_s):>9}"
        )
        if inputs:
            for label, description in r.inputs.items():
                click.echo(f"{'':8}{label}: {description}")
    click.echo(f"{len(records)} calculations")


@query.command("trace")
@click.argument("node", metavar="PK", type=NodeParam("node"))
@click.argument("key")
@profile_option
def trace(node: Any, key: str, profile_name: str | None) -> None:
    """Trace a reported number back to the structures, parameters and pseudos behind it.

    PK is a Dict, or a process whose Dict outputs hold KEY; nested keys are dotted.

    \b
    Examples:
      aiida-janus query trace 1234 routes.projected_dos.conduction_offset_ev
      aiida-janus query trace 1234 routes.potential_lineup.valence_offset_ev
      aiida-janus query trace 1311 perovskite_strain_percent
    """
    from workflows.provenance.queries import trace_output

    use_profile(profile_name)
    with clear_errors():
        result = trace_output(node.pk, key)
    click.echo(f"{key} = {result.value!r}  (Dict<{result.data_pk}>, made by <{result.creator_pk}>)")
    for kind in TRACE_SECTIONS:
        sources = result.of_kind(kind)
        if sources:
            click.echo(f"{kind}:")
        for source in sources:
            click.echo(f"  {source.pk:>6}  {source.type_name:<22} {source.description}")


@query.command("studies")
@click.option("--perovskite", default=None, help="e.g. CsPbBr3")
@click.option("--chalcogenide", default=None, help="e.g. CdS")
@click.option("--protocol", type=PROTOCOLS, default=None, help="Protocol the study ran.")
@click.option(
    "--process-type",
    default=PIPELINE_PROCESS_TYPE,
    show_default=True,
    help="Which workflows count as studies.",
)
@profile_option
def studies(
    perovskite: str | None,
    chalcogenide: str | None,
    protocol: str | None,
    process_type: str,
    profile_name: str | None,
) -> None:
    """Find studies by materials pair and protocol (inputs or extras of the workflow).

    \b
    Examples:
      aiida-janus query studies
      aiida-janus query studies --perovskite CsPbBr3 --chalcogenide CdS --protocol fast
    """
    from workflows.provenance.queries import find_studies, flattened_inputs

    use_profile(profile_name)
    with clear_errors():
        found = find_studies(
            process_type, perovskite=perovskite, chalcogenide=chalcogenide, protocol=protocol
        )
    if not found:
        click.echo(f"no {process_type.removeprefix('aiida.workflows:')} studies match")
        return
    for node in found:
        flat = flattened_inputs(node)
        pair = "/".join(
            str(flat.get(tag, flat.get(f"extras.{tag}", "?"))).strip("'")
            for tag in ("perovskite", "chalcogenide")
        )
        protocol_used = str(flat.get("protocol", flat.get("extras.protocol", "-"))).strip("'")
        state = node.process_state.value if node.process_state else "unknown"
        click.echo(
            f"{node.pk:>6}  {node.ctime:%Y-%m-%d %H:%M}  {pair:<16} {protocol_used:<10} {state}"
        )


@query.command("diff")
@click.argument("study_a", metavar="PK_A", type=NodeParam("study"))
@click.argument("study_b", metavar="PK_B", type=NodeParam("study"))
@profile_option
def diff(study_a: Any, study_b: Any, profile_name: str | None) -> None:
    """Show the inputs (flattened, dotted keys) that differ between two studies.

    \b
    Examples:
      aiida-janus query diff 1234 1302
    """
    from workflows.provenance.node_names import node_kind
    from workflows.provenance.queries import diff_inputs

    use_profile(profile_name)
    if study_a.process_type != study_b.process_type:
        raise click.UsageError(
            f"<{study_a.pk}> is {node_kind(study_a)} and <{study_b.pk}> "
            f"{node_kind(study_b)}: `query diff` compares two studies of one kind"
        )
    pk_a, pk_b = study_a.pk, study_b.pk
    with clear_errors():
        result = diff_inputs(pk_a, pk_b)
    if result.identical:
        click.echo(f"<{pk_a}> and <{pk_b}> have identical inputs")
        return
    width = max(len(key) for key in result.changed)
    click.echo(f"{'input':<{width}}  <{pk_a}>  ->  <{pk_b}>")
    for key, (value_a, value_b) in result.changed.items():
        click.echo(f"{key:<{width}}  {_shown(value_a)}  ->  {_shown(value_b)}")


def _shown(value: Any) -> str:
    return "(absent)" if value is None else str(value)


@click.command("status")
@click.argument("workflow", metavar="PK", type=NodeParam("workflow"))
@profile_option
def status(workflow: Any, profile_name: str | None) -> None:
    """The study as a tree (like `verdi process status`): PK, state, [exit status],
    elapsed time, and the job id and scheduler state of each CalcJob.

    \b
    Examples:
      aiida-janus status 1234
    """
    from workflows.provenance.status_tree import status_tree

    use_profile(profile_name)
    with clear_errors():
        lines = status_tree(workflow.pk)
    click.echo("\n".join(lines))


@click.command("export")
@click.argument("workflow", metavar="PK", type=NodeParam("workflow"))
@click.argument("file", type=OutputPath("file"))
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
@profile_option
def export(workflow: Any, file: Path, overwrite: bool, profile_name: str | None) -> None:
    """Write a finished study and its full provenance to an AiiDA archive.

    The archive imports with ``verdi archive import``; a study still running is refused
    (its provenance is not complete yet).

    \b
    Examples:
      aiida-janus export 1234 cspbbr3-cds-fast.aiida
    """
    from aiida.tools.archive import create_archive

    use_profile(profile_name)
    pk = workflow.pk
    if not workflow.is_sealed:
        state = workflow.process_state.value if workflow.process_state else "not started"
        raise click.UsageError(
            f"<{pk}> is {state}, not finished: export it once `aiida-janus status {pk}` shows "
            f"it finished (or after `verdi process kill {pk}`)"
        )
    if file.exists() and not overwrite:
        raise click.ClickException(f"{file} exists: choose another name or add --overwrite")
    path = create_archive([workflow], filename=file, overwrite=overwrite)
    click.echo(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB) with study <{pk}>")
