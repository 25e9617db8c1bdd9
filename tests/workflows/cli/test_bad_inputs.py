"""The bad-input sweep of the CLI: each case fails with one message naming the fix.

Every row of ``CASES`` is an ``aiida-janus`` command line with one bad value and a piece
of the message it must print. Each runs through click's runner on the test profile
(with mock codes as ``pw``/``projwfc``/``pp@localhost``, so only the bad value can
fail) and must end with a non-zero exit code, an ``Error:`` line containing that piece,
no traceback, and no new node in the database. ``docs/bad-inputs.md`` lists these rows
together with the workchain- and library-level cases tested elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from workflows.cli.main import cli

if TYPE_CHECKING:
    from aiida.orm import Computer
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

INCOMPLETE_YAML = "label: mycluster\nscheduler: core.slurm\n"

# (command line, piece of the error message); ``{tmp}`` is a scratch folder.
CASES: list[tuple[str, str]] = [
    ("run --perovskite CsPbQ3 --computer badinput", "is not a chemical element"),
    ("run --chalcogenide ZzS --computer badinput", "Zz"),
    ("run --perovskite CdS --computer badinput", "is not an A(+1)B(+2)X(-1)3 perovskite formula"),
    (
        "run --protocol huge --computer badinput",
        "'huge' is not one of 'fast', 'balanced', 'stringent'",
    ),
    ("run --computer nowhere", "no codes on computer 'nowhere': run `aiida-janus setup`"),
    ("run --ranks 0 --computer badinput", "0 is not in the range x>=1"),
    ("run --skip relaxation --computer badinput", "'relaxation' is not one of 'bulk', 'interface'"),
    ("submit --perovskite CsPbQ3 --computer badinput", "is not a chemical element"),
    ("alignment --thickness 3 2 --computer badinput", "--thickness: give at least two models"),
    ("alignment --thickness 3 2 --thickness 3 2 --computer badinput", "repeats a model"),
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
    ("setup --computer {tmp}/none.yaml", "does not exist"),
    ("setup --pseudos us", "'us' is not one of 'paw', 'nc'"),
    ("slurm-up --computer {tmp}/incomplete.yaml", "missing required fields"),
    ("build --perovskite CsPbQ3 -o {tmp}/b", "is not a chemical element"),
    ("build --perovskite-planes 0 -o {tmp}/b", "0 is not in the range x>=1"),
    ("build --strain-weight 2 -o {tmp}/b", "2.0 is not in the range 0.0<=x<=1.0"),
    ("build --max-strain -1 -o {tmp}/b", "-1.0 is not in the range x>0.0"),
    ("build --model huge -o {tmp}/b", "'huge' is not one of 'demo', 'production'"),
    ("epitaxy --chalcogenide FooBar", "cannot parse formula 'FooBar'"),
    ("epitaxy --perovskite-a -5.9", "-5.9 is not in the range x>0.0"),
]


@pytest.fixture
def cli_codes(
    localhost: Computer,
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
    janus_test_dir: Path,
) -> None:
    """Mock codes as pw/projwfc/pp@badinput (a computer of their own: other tests look
    for real codes on ``localhost``); both pseudo families."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import Computer, load_computer

    from workflows.mock.codes import register_mock_code

    try:
        computer = load_computer("badinput")
    except NotExistent:
        computer = Computer(
            label="badinput",
            hostname="localhost",
            transport_type="core.local",
            scheduler_type="core.direct",
            workdir=localhost.get_workdir(),
        ).store()
        computer.set_default_mpiprocs_per_machine(1)
        computer.configure()
    for name in ("pw", "projwfc", "pp"):
        register_mock_code(f"{name}.x", computer, janus_test_dir / "bin" / "cli", label=name)
    pseudo_family("paw")
    pseudo_family("nc")


def _node_count() -> int:
    from aiida.orm import Node, QueryBuilder

    return int(QueryBuilder().append(Node).count())


@pytest.mark.parametrize(("command", "message"), CASES, ids=[case[0] for case in CASES])
@pytest.mark.usefixtures("cli_codes")
def test_bad_input_names_the_fix_and_stores_nothing(
    command: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "incomplete.yaml").write_text(INCOMPLETE_YAML)
    args = command.format(tmp=tmp_path).split()
    before = _node_count()
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert message in result.output.replace("\n", " "), result.output
    assert _node_count() == before, "a refused command must not store anything"
