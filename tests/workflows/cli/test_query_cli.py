"""``aiida-janus query/status/export/slurm-up`` through click's runner on real toy studies.

The studies are the ones of ``tests/workflows/provenance/test_queries.py`` (two small workchains,
each
with a real pw.x SCF of zinc-blende CdS); bad input must end in one ``Error:`` line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiida import orm
from click.testing import CliRunner, Result

from tests.workflows.provenance.test_queries import ToyStudies, build_toy_studies, stored_pk
from workflows.cli.main import cli


@pytest.fixture
def studies(localhost: object) -> ToyStudies:
    return build_toy_studies()


def invoke(*args: object) -> Result:
    """Run ``aiida-janus ARGS`` in-process on the loaded test profile."""
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def assert_clean_error(result: Result, message: str) -> None:
    """Exit code 1 (or 2, click's usage errors: a bad PK or file is refused as it is
    parsed), one ``Error:`` line naming the problem, no traceback."""
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.output
    assert message in error_lines[0]


@pytest.mark.real_qe
def test_calcs_lists_the_three_calculations(studies: ToyStudies) -> None:
    result = invoke("query", "calcs", studies.fast)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "3 calculations"
    scf_line = next(line for line in result.output.splitlines() if "PwCalculation" in line)
    assert "pw@localhost" in scf_line
    assert "finished" in scf_line
    assert "SYSTEM.ecutwfc=20.0" in result.output, "key inputs are shown"


@pytest.mark.real_qe
def test_trace_prints_the_pseudopotentials_behind_an_offset(studies: ToyStudies) -> None:
    result = invoke("query", "trace", studies.fast, "band_offsets.cb_offset_ev")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("band_offsets.cb_offset_ev = ")
    sections = [line for line in result.output.splitlines() if line.endswith(":")]
    assert sections == [
        "structure:",
        "parameters:",
        "pseudopotential:",
        "kpoints:",
        "code:",
        "data:",
        "calculation:",
        "intermediate:",
    ]
    assert "Cd.pbe-n-nc.UPF" in result.output
    assert "S.pbe-n-nc.UPF" in result.output


@pytest.mark.real_qe
def test_studies_filters_by_protocol(studies: ToyStudies) -> None:
    process_type = orm.load_node(studies.fast).process_type
    result = invoke("query", "studies", "--process-type", process_type, "--protocol", "fast")
    assert result.exit_code == 0, result.output
    listed = [int(line.split()[0]) for line in result.output.splitlines()]
    assert listed == [studies.fast]
    assert "CsPbBr3/CdS" in result.output
    none = invoke("query", "studies", "--process-type", process_type, "--chalcogenide", "ZnS")
    assert "no " in none.output


@pytest.mark.real_qe
def test_diff_shows_the_cutoff_change(studies: ToyStudies) -> None:
    result = invoke("query", "diff", studies.fast, studies.balanced)
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if "SYSTEM.ecutwfc" in row)
    assert line.split()[1:] == ["20.0", "->", "24.0"]
    same = invoke("query", "diff", studies.fast, studies.fast)
    assert "identical inputs" in same.output


@pytest.mark.real_qe
def test_status_shows_steps_with_job_ids(studies: ToyStudies) -> None:
    result = invoke("status", studies.fast)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 4, "the workchain and its three calculations"
    scf = next(line for line in lines if "PwCalculation" in line)
    assert " job " in scf
    assert "finished" in scf


@pytest.mark.real_qe
def test_export_writes_an_archive_with_the_provenance(studies: ToyStudies, tmp_path: Path) -> None:
    from aiida.tools.archive.abstract import get_format

    target = tmp_path / "study.aiida"
    result = invoke("export", studies.fast, target)
    assert result.exit_code == 0, result.output
    with get_format().open(target, "r") as archive:
        pseudos = archive.querybuilder().append(orm.Data, filters={"attributes.element": "Cd"})
        assert pseudos.count() == 1, "the pseudopotential travels with the study"
        assert archive.querybuilder().append(orm.CalcJobNode).count() == 1
    assert_clean_error(invoke("export", studies.fast, target), "--overwrite")


@pytest.mark.usefixtures("aiida_profile")
def test_unknown_pk_and_non_workflow_give_one_clear_error(tmp_path: Path) -> None:
    for command in (("query", "calcs"), ("status",), ("query", "trace")):
        extra = ("energy",) if command[-1] == "trace" else ()
        assert_clean_error(invoke(*command, 10**9, *extra), "no node with PK")
    data_pk = stored_pk(orm.Int(7).store())
    assert_clean_error(invoke("query", "calcs", data_pk), "not a workflow")
    assert_clean_error(invoke("query", "diff", data_pk, data_pk), "not a workflow")
    assert_clean_error(invoke("export", data_pk, tmp_path / "x.aiida"), "not a workflow")
    assert_clean_error(invoke("query", "trace", data_pk, "energy"), "give a Dict or a process")


def test_slurm_up_rejects_an_incomplete_cluster_yaml(tmp_path: Path) -> None:
    incomplete = tmp_path / "cluster.yaml"
    incomplete.write_text("label: mycluster\nscheduler: core.slurm\n")
    assert_clean_error(
        invoke("slurm-up", "--computer-config", incomplete), "missing required fields"
    )
    direct = tmp_path / "direct.yaml"
    direct.write_text(
        "label: x\nhostname: localhost\ntransport: core.local\nscheduler: core.direct\n"
        "work_dir: /tmp/x\nmpirun_command: mpirun\n"
    )
    assert_clean_error(
        invoke("slurm-up", "--computer-config", direct), "needs scheduler: core.slurm"
    )
    assert_clean_error(
        invoke("slurm-up", "--computer-config", tmp_path / "none.yaml"), "does not exist"
    )


def test_computer_file_option_is_computer_config_with_a_deprecated_alias(tmp_path: Path) -> None:
    """``--computer`` is a computer label in run/submit/alignment/demo; in setup/slurm-up the
    YAML is ``--computer-config`` (shown in --help), the old ``--computer FILE`` hidden and
    still read, with one deprecation line (issue 23: one name, one meaning)."""
    from workflows.cli.params import COMPUTER_ALIAS_NOTICE

    for command in ("setup", "slurm-up"):
        shown = invoke(command, "-h").output
        assert "--computer-config FILE" in shown
        assert "--computer " not in shown.split("Options:")[1].replace("--computer-config", "")
    direct = tmp_path / "direct.yaml"
    direct.write_text(
        "label: x\nhostname: localhost\ntransport: core.local\nscheduler: core.direct\n"
        "work_dir: /tmp/x\nmpirun_command: mpirun\n"
    )
    old = invoke("slurm-up", "--computer", direct)
    assert_clean_error(old, "needs scheduler: core.slurm")  # the file was read
    assert old.output.count(COMPUTER_ALIAS_NOTICE) == 1
    assert "Warning" not in invoke("slurm-up", "--computer-config", direct).output


def test_every_command_has_help_with_examples() -> None:
    commands = [
        ("query", "calcs"),
        ("query", "trace"),
        ("query", "studies"),
        ("query", "diff"),
        ("status",),
        ("export",),
        ("slurm-up",),
        ("slurm-down",),
    ]
    for command in commands:
        result = invoke(*command, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.output
        assert f"aiida-janus {' '.join(command)}" in result.output


def test_trace_examples_in_help_name_keys_a_study_stores() -> None:
    """The keys `query -h` and `query trace -h` show exist in what the workchains store.

    Reference: the stored outputs themselves: a band alignment's ``routes`` hold one
    :class:`OffsetResult` per route (``alignment_analysis`` writes ``projected_dos``,
    ``eigenvalues``, ``potential_lineup``; `query trace 648
    routes.projected_dos.conduction_offset_ev` printed the value on the project profile,
    2026-12-05), and an interface's ``build_report`` is :func:`interface_summary` of the
    built model. Before, the help showed ``band_offsets.cb_offset_ev``, a key only the toy
    studies of these tests have (issue 23)."""
    import dataclasses
    import inspect
    import re

    from heterostructures.electronic import alignment_analysis
    from heterostructures.electronic.band_offsets import OffsetResult
    from heterostructures.structure.interface_spec import build_from_spec, interface_summary
    from tests.workflows.cli.conftest import SMALL_MODEL

    texts = [invoke(*words, "-h").output for words in (["query"], ["query", "trace"])]
    keys = {key for text in texts for key in re.findall(r"query trace \d+ (\S+)", text)}
    assert len(keys) >= 2, texts
    source = inspect.getsource(alignment_analysis)
    fields = {field.name for field in dataclasses.fields(OffsetResult)}
    build_report = interface_summary(
        build_from_spec({**SMALL_MODEL, "perovskite": "CsPbBr3", "chalcogenide": "CdS"}, {})
    )
    for key in keys:
        parts = key.split(".")
        if parts[0] == "routes":
            assert f'"{parts[1]}"' in source, key
            assert parts[2] in fields, key
        else:
            assert key in build_report, key


def test_studies_empty_answer_names_the_workflow_not_the_entry_point() -> None:
    """Reference: issue 23 audit ("no aiida.workflows:janus.pipeline studies match")."""
    result = invoke("query", "studies", "--chalcogenide", "NoSuchChalcogenide")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no janus.pipeline studies match"
