"""The bad-input sweep of the CLI: each case fails with one message naming the fix.

Every row of ``CASES`` is an ``aiida-janus`` command line with one bad value and a piece
of the message it must print. Each runs through click's runner on the test profile
(with mock codes as ``pw``/``projwfc``/``pp@localhost``, so only the bad value can
fail) and must end with a non-zero exit code, an ``Error:`` line containing that piece,
no traceback, no new node in the database, no new profile and no new file or folder
(neither in the scratch folder nor in the current one). ``docs/bad-inputs.md`` lists
these rows together with the workchain- and library-level cases tested elsewhere.

Reference for every row: the command's contract (one line naming the option to fix,
nothing stored or created); the rows of issue 23 ("Crashes, hangs and side effects")
crashed, hung or silently went on before (segfault, 9 min of CPU, tracebacks,
``identical inputs``, a new profile ``ghost``).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.workflows.cli.conftest import write_structure_files
from workflows.cli.main import cli

INCOMPLETE_YAML = "label: mycluster\nscheduler: core.slurm\n"
MALFORMED_YAML = "label: x\nhostname: [localhost\n"
CLASHING_YAML = (
    "label: badinput\nhostname: cluster.example.org\ntransport: core.local\n"
    "scheduler: core.direct\nwork_dir: /tmp/x\nmpirun_command: mpirun -np {tot_num_mpiprocs}\n"
)
HUGE_PK = str(10**30)
PAW, NC = "janus/pslibrary-1.0.0/PBE/PAW", "janus/pslibrary-1.0.0/PBE/NC"

# (command line, piece of the error message); ``{tmp}`` is a scratch folder holding the
# input files of ``_inputs``, ``{running}`` a workflow still running, ``{profile}`` the
# test profile.
CASES: list[tuple[str, str]] = [
    ("run --perovskite CsPbQ3 --computer badinput", "is not a chemical element"),
    ("run --chalcogenide ZzS --computer badinput", "Zz"),
    ("run --perovskite CdS --computer badinput", "is not an A(+1)B(+2)X(-1)3 perovskite formula"),
    (
        "run --protocol huge --computer badinput",
        "'huge' is not one of 'fast', 'balanced', 'stringent'",
    ),
    ("run --computer nowhere", "no codes on computer 'nowhere': run `aiida-janus setup`"),
    ("run --ranks 0 --computer badinput", "0 is not in the range 1<=x<=1024"),
    ("run --skip relaxation --computer badinput", "'relaxation' is not one of 'bulk', 'interface'"),
    ("submit --perovskite CsPbQ3 --computer badinput", "is not a chemical element"),
    ("alignment --thickness 3 2 --computer badinput", "--thickness: give at least two models"),
    ("alignment --thickness 3 2 --thickness 3 2 --computer badinput", "repeats a model"),
    (
        "alignment --thickness 3 1 --thickness 3 2 --computer badinput",
        "--thickness: [3, 1] has a domain of one atomic plane",
    ),
    ("alignment --thickness 0 2 --computer badinput", "0 is not in the range x>=1"),
    ("alignment --thickness 3 x --computer badinput", "is not a valid integer"),
    ("alignment --chalcogenide ZzS --computer badinput", "Zz"),
    ("alignment --daemon --computer badinput", "daemon"),
    ("submit --computer badinput", "daemon"),
    ("report 1000000000", "no node with PK"),
    ("status 1000000000", "no node with PK"),
    ("query calcs 1000000000", "no node with PK"),
    ("query trace 1000000000 band_offsets.cb_offset_ev", "no node with PK"),
    ("export 1000000000 {tmp}/study.aiida", "no node with PK"),
    ("daemon start --profile no-such-profile", "create it with `aiida-janus setup --profile"),
    ("daemon stop --profile no-such-profile", "does not exist"),
    ("daemon restart-broker --profile no-such-profile", "does not exist"),
    ("setup --storage sqlite --broker rabbitmq", "--broker rabbitmq needs --storage postgresql"),
    ("setup --storage postgresql --broker zeromq", "goes with --broker rabbitmq"),
    ("setup --postgres-url postgresql://x@h/db", "--postgres-url needs --storage postgresql"),
    ("setup --storage postgresql --postgres-url mysql://a:b@h/d", "is not a PostgreSQL URL"),
    ("setup --storage postgresql --postgres-url postgresql://h:5432/", "lacks the user"),
    (
        "setup --storage postgresql --rabbitmq-url http://h/ --postgres-url "
        "postgresql://a:b@localhost:1/d",
        "is not an AMQP URL",
    ),
    ("setup --computer-config {tmp}/none.yaml", "does not exist"),
    ("setup --pseudos us", "'us' is not one of 'paw', 'nc'"),
    ("slurm-up --computer-config {tmp}/incomplete.yaml", "missing required fields"),
    ("build --perovskite CsPbQ3 -o {tmp}/b", "is not a chemical element"),
    ("build --perovskite-planes 0 -o {tmp}/b", "0 is not in the range 1<=x<=500"),
    ("build --strain-weight 2 -o {tmp}/b", "'--strain-weight': 2 is outside the range"),
    ("build --max-strain -1 -o {tmp}/b", "'--max-strain': -1 is outside the range"),
    ("build --model huge -o {tmp}/b", "'huge' is not one of 'demo', 'production'"),
    ("epitaxy --chalcogenide FooBar", "cannot parse formula 'FooBar'"),
    ("epitaxy --perovskite-a -5.9", "'--perovskite-a': -5.9 is outside the range"),
    # issue 23, crashes, hangs and side effects
    ("epitaxy --chalcogenide-a inf", "'--chalcogenide-a': inf is not a finite number"),
    ("epitaxy --perovskite-a 0.5", "'--perovskite-a': 0.5 is outside the range: give a value from"),
    ("epitaxy --perovskite-a 1e6", "'--perovskite-a': 1e+06 is outside the range"),
    ("epitaxy --chalcogenide-a 2", "'--chalcogenide-a': 2 is outside the range"),
    ("epitaxy --quoted-mismatch nan", "'--quoted-mismatch': nan is not a finite number"),
    ("build --max-strain nan -o {tmp}/b", "'--max-strain': nan is not a finite number"),
    ("build --strain-weight nan -o {tmp}/b", "'--strain-weight': nan is not a finite number"),
    (
        "build --perovskite-planes 201 --chalcogenide-planes 200 -o {tmp}/b",
        "atoms > --max-atoms 1000: use fewer planes or a smaller in-plane cell (`build` stops at "
        "1000 atoms: pass --max-atoms N",
    ),
    ("build --perovskite-planes 1000000 -o {tmp}/b", "'--perovskite-planes': 1000000 is not in"),
    ("build -o {tmp}/file.txt", "'--output' / '-o': {tmp}/file.txt is an existing file"),
    ("build -o {tmp}/file.txt/sub", "{tmp}/file.txt is a file, so {tmp}/file.txt/sub cannot"),
    ("build -o /proc/janus-out", "'--output' / '-o': cannot write in /proc"),
    ("build -o ''", "'--output' / '-o': the path is empty: give a folder name"),
    ("report -o {tmp}/file.txt {running}", "'--output' / '-o': {tmp}/file.txt is an existing"),
    ("report -o '' {running}", "'--output' / '-o': the path is empty"),
    ("demo -o {tmp}/file.txt", "'--output' / '-o': {tmp}/file.txt is an existing file"),
    ("status " + HUGE_PK, f"no node with PK {HUGE_PK} (PKs run from 1 to 2^63-1)"),
    ("report " + HUGE_PK, f"no node with PK {HUGE_PK}"),
    ("query calcs " + HUGE_PK, f"no node with PK {HUGE_PK}"),
    ("query trace " + HUGE_PK + " energy", f"no node with PK {HUGE_PK}"),
    ("query diff " + HUGE_PK + " 1", f"no node with PK {HUGE_PK}"),
    ("export " + HUGE_PK + " {tmp}/x.aiida", f"no node with PK {HUGE_PK}"),
    ("status no-such-label", "no node with PK, UUID or label no-such-label"),
    ("setup --computer-config {tmp}/binary.yaml", "binary.yaml is not a text (UTF-8) file"),
    ("setup --computer-config {tmp}/malformed.yaml", "malformed.yaml is not valid YAML"),
    ("slurm-up --computer {tmp}/malformed.yaml", "malformed.yaml is not valid YAML"),
    (
        "setup --profile {profile} --computer-config {tmp}/clash.yaml",
        "computer 'badinput' exists in profile '{profile}' with other settings (hostname is "
        "'localhost', the YAML says 'cluster.example.org'",
    ),
    ("daemon start --workers -3", "'--workers': -3 is not in the range 1<=x<=64"),
    ("export {running} {tmp}/x.aiida", "is running, not finished: export it once"),
    ("export {running} /proc/x.aiida", "'FILE': cannot write in /proc"),
    ("export {running} {tmp}", "is a folder: give a file name in it"),
    ("export {running} ''", "'FILE': the path is empty"),
    ("query diff {running} {running}", "not a study (a janus.* workflow)"),
    ("-p ghost status 1", "profile 'ghost' does not exist (profiles: "),
    ("status --profile ghost 1", "profile 'ghost' does not exist"),
    ("report --profile ghost 1", "create it with `aiida-janus setup --profile ghost`"),
    ("query studies --profile ghost", "profile 'ghost' does not exist"),
    ("-p ghost query alignment", "profile 'ghost' does not exist"),
    ("export --profile ghost 1 {tmp}/x.aiida", "profile 'ghost' does not exist"),
    ("-p ghost run --computer badinput", "profile 'ghost' does not exist"),
    ("-p ghost daemon stop", "profile 'ghost' does not exist"),
    ("-p {profile} status --profile ghost 1", "name two profiles: give one"),
    # issue 23, conventions: -X/--code, -F/--pseudo-family, --structure, lattice constants
    ("run -X nosuchcode --computer badinput", "'-X' / '--code': no code with PK, UUID or label"),
    ("run -X add@badinput --computer badinput", "runs core.arithmetic.add, not one of"),
    ("run -X pw@badinput -X pw-other@badinput --computer badinput", "gives two pw codes"),
    ("run -F no/such/family --computer badinput", "no pseudopotential family 'no/such/family'"),
    ("run -F us=" + NC + " --computer badinput", "us= is no flavour: give LABEL, paw=LABEL"),
    ("run -F " + PAW + " --computer badinput", "the NA snapshots need norm-conserving"),
    ("run -F nc=" + NC + " -F nc=" + PAW + " --computer badinput", "gives two nc families"),
    ("run --chalcogenide CdTe --computer badinput", "CdTe: give it with --chalcogenide-a"),
    ("submit --chalcogenide ZnTe --computer badinput", "give it with --chalcogenide-a"),
    ("run --chalcogenide-a nan --computer badinput", "'--chalcogenide-a': nan is not a finite"),
    ("run --perovskite-a 50 --computer badinput", "'--perovskite-a': 50 is outside the range"),
    ("run --structure {tmp}/none.extxyz --computer badinput", "does not exist"),
    ("run --structure {tmp}/file.txt --computer badinput", "is not a structure file ase can read"),
    ("run --structure {tmp}/plain.cif --computer badinput", "has no interface site labels"),
    (
        "run --structure {tmp}/interface.extxyz --chalcogenide ZnS --computer badinput",
        "holds Br, Cd, Cs, Pb, S, but --perovskite CsPbBr3 --chalcogenide ZnS have",
    ),
    (
        "run --structure {tmp}/thin.extxyz --computer badinput",
        "'chalcogenide' has one atomic plane, and the potential line-up needs two per domain:"
        " rebuild it with `aiida-janus build --chalcogenide-planes 2` (or more planes)",
    ),
    ("build --chalcogenide CdTe -o {tmp}/b", "give it with --chalcogenide-a"),
    ("epitaxy --chalcogenide ZnTe", "zinc-blende ZnTe: give it with --chalcogenide-a"),
    # issue 23, found by the session 9 audit: empty identifiers and profile names (aiida's
    # loader raised a bare ValueError; `-p ''` fell back to the default profile), and a
    # report of a workflow without a summary (it left an empty output folder behind)
    ("status ''", "'PK': the identifier is empty: give a PK, UUID or label"),
    ("export '' {tmp}/x.aiida", "'PK': the identifier is empty"),
    ("query diff '' {running}", "'PK_A': the identifier is empty"),
    ("query calcs ' '", "'PK': the identifier is empty"),
    ("report -o {tmp}/report {running}", "has no `summary` output: is it a finished"),
    ("-p '' status 1", "'-p' / '--profile': the profile name is empty"),
    ("status --profile '' 1", "'--profile': the profile name is empty"),
    ("setup --profile ''", "--profile: the profile name is empty"),
    ("daemon stop --profile ''", "'--profile': the profile name is empty"),
    # ... and library refusals that named Python arguments (max_atoms=, coincidence='off')
    # or an option the command lacks (`plan` had no --chalcogenide-a, `run` no --max-atoms)
    ("plan --chalcogenide CdTe", "zinc-blende CdTe: give it with --chalcogenide-a"),
    ("plan --chalcogenide-a nan", "'--chalcogenide-a': nan is not a finite number"),
    (
        "build --coincidence off --chalcogenide ZnS -o {tmp}/b",
        "(--coincidence off): use --coincidence auto without explicit directions, move"
        " --strain-weight, or raise the bound",
    ),
    (
        "run --perovskite CsPbI3 --chalcogenide ZnS --protocol stringent --computer badinput",
        "376 atoms > the atom bound 300 (",
    ),
    # session 9 follow-up: huge counts passed (`plan` printed walls of "0 s", `run --dry-run`
    # said "inputs valid"), any --protocol was searched for, and `daemon --profile` ignored
    # AiiDA's default profile and accepted a second name beside -p
    ("plan --cores " + HUGE_PK, f"'--cores': {HUGE_PK} is not in the range 1<=x<=10000000"),
    (
        "run --ranks " + HUGE_PK + " --dry-run --computer badinput",
        f"'--ranks': {HUGE_PK} is not in the range 1<=x<=1024",
    ),
    ("submit --ranks 2000 --computer badinput", "'--ranks': 2000 is not in the range 1<=x<=1024"),
    ("query studies --protocol huge", "'huge' is not one of 'fast', 'balanced', 'stringent'"),
    ("-p {profile} daemon stop --profile ghost", "name two profiles: give one"),
    # session 10: `alignment` takes run's -X/-F, lattice constants and strain bound
    ("alignment --chalcogenide CdTe --computer badinput", "CdTe: give it with --chalcogenide-a"),
    ("alignment -X nosuchcode --computer badinput", "'-X' / '--code': no code with PK, UUID"),
    ("alignment -F no/such/family --computer badinput", "no pseudopotential family"),
    ("alignment --max-strain nan --computer badinput", "'--max-strain': nan is not a finite"),
    (
        "build --protocol fast --model demo -o {tmp}/b",
        "--protocol and --model both choose the model: give one",
    ),
    ("build --protocol huge -o {tmp}/b", "'huge' is not one of 'fast', 'balanced', 'stringent'"),
    # --computer is a label elsewhere: setup/slurm-up take --computer-config (old name hidden)
    (
        "slurm-up --computer-config {tmp}/clash.yaml --computer {tmp}/clash.yaml",
        "--computer-config and --computer (its deprecated name) both give the computer YAML",
    ),
]


def _node_count() -> int:
    from aiida.orm import Node, QueryBuilder

    return int(QueryBuilder().append(Node).count())


@pytest.fixture
def running_workflow() -> int:
    """A stored workflow node in the RUNNING state (not sealed), as a study is mid-way."""
    from aiida.orm import WorkflowNode
    from plumpy import ProcessState

    node = WorkflowNode()
    node.set_process_state(ProcessState.RUNNING)
    node.store()
    assert node.pk is not None
    return node.pk


def _inputs(folder: Path) -> None:
    """The input files the rows name: YAML files (incomplete, malformed, binary, one
    that reuses the label of a stored computer) and a plain file where a folder is due."""
    folder.mkdir()
    (folder / "incomplete.yaml").write_text(INCOMPLETE_YAML)
    (folder / "malformed.yaml").write_text(MALFORMED_YAML)
    (folder / "clash.yaml").write_text(CLASHING_YAML)
    (folder / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (folder / "file.txt").write_text("not a folder\n")
    write_structure_files(folder)


def _tree(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize(("command", "message"), CASES, ids=[case[0] for case in CASES])
@pytest.mark.usefixtures("cli_codes")
def test_bad_input_names_the_fix_and_stores_nothing(
    command: str,
    message: str,
    tmp_path: Path,
    running_workflow: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiida.manage.configuration import get_config, get_profile

    profile = get_profile()
    assert profile is not None
    scratch, cwd = tmp_path / "in", tmp_path / "cwd"
    _inputs(scratch)
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    fields = {"tmp": scratch, "running": running_workflow, "profile": profile.name}
    args = shlex.split(command.format(**fields))
    before = (_node_count(), set(get_config().profile_names), _tree(tmp_path))
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert message.format(**fields) in result.output.replace("\n", " "), result.output
    assert _node_count() == before[0], "a refused command must not store anything"
    assert set(get_config().profile_names) == before[1], "nor create a profile"
    assert _tree(tmp_path) == before[2], "nor write a file or folder"
    assert get_profile() == profile, "and the test profile stays loaded"


def test_docs_count_every_case() -> None:
    """docs/bad-inputs.md states how many rows this sweep has; it must not drift from CASES.

    Reference: ``CASES`` itself (the page is written by hand from it)."""
    import re

    page = Path(__file__).resolve().parents[3] / "docs" / "bad-inputs.md"
    stated = re.search(r"test profile\. (\d+) cases\.", page.read_text())
    assert stated is not None
    assert int(stated.group(1)) == len(CASES)
