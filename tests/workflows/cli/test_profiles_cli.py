"""``aiida-janus -p/--profile``: read-only commands open an existing profile, never make one.

Each case runs the CLI in a process of its own (a pytest process has its profile loaded,
so the choice of profile can only be seen from outside), with the environment a user has.
Reference: verdi's convention (``verdi -p NAME``; without it the default profile of the
configuration ``AIIDA_PATH`` points to; an unknown name is refused) and issue 23, where
``status 1`` created an empty ``janus`` profile and ``./.work/aiida`` in any folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = "from workflows.cli.main import cli; cli()"


def run_cli(
    args: list[str], cwd: Path, aiida_path: Path | None
) -> subprocess.CompletedProcess[str]:
    """``aiida-janus ARGS`` in ``cwd`` with ``AIIDA_PATH`` (or none) and no JANUS_WORK_DIR."""
    env = {k: v for k, v in os.environ.items() if k not in ("AIIDA_PATH", "JANUS_WORK_DIR")}
    if aiida_path is not None:
        env["AIIDA_PATH"] = str(aiida_path)
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit code 2 (a usage error), one ``Error:`` line with ``message``, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert message in errors[0], result.stderr


def test_without_a_configuration_nothing_is_created(tmp_path: Path) -> None:
    """No AIIDA_PATH, no JANUS_WORK_DIR, an empty folder: the old CLI created
    ``./.work/aiida`` and a profile ``janus`` there, then said "no node with PK 1"."""
    for args in (["status", "1"], ["-p", "ghost", "query", "studies"]):
        result = run_cli(args, tmp_path, None)
        assert_refused(result, f"no AiiDA configuration in {tmp_path}/.work/aiida/.aiida")
        assert "run `aiida-janus setup` first" in result.stderr
        assert list(tmp_path.iterdir()) == [], f"{args} created files in the current folder"


@pytest.fixture
def session_config(tmp_path: Path) -> Path:
    """An AIIDA_PATH whose ``.aiida`` is the test session's configuration (a link to it)."""
    from aiida.manage.configuration import get_config

    aiida_path = tmp_path / "aiida"
    aiida_path.mkdir()
    (aiida_path / ".aiida").symlink_to(get_config().dirpath, target_is_directory=True)
    return aiida_path


def test_default_profile_is_used_and_an_unknown_one_refused(
    session_config: Path, tmp_path: Path
) -> None:
    """The session's configuration has the test profile as its default: ``status PK``
    finds the node there (the old CLI created and searched an empty ``janus``), ``-p
    ghost`` is refused with the list of profiles, and the configuration is unchanged."""
    from aiida.manage.configuration import get_config, get_profile
    from aiida.orm import WorkflowNode
    from plumpy import ProcessState

    config_file = Path(get_config().dirpath) / "config.json"
    before = config_file.read_text()
    profile = get_profile()
    assert profile is not None
    assert get_config().default_profile_name == profile.name
    node = WorkflowNode()
    node.set_process_state(ProcessState.FINISHED)
    node.store()
    node.seal()
    found = run_cli(["status", str(node.pk)], tmp_path, session_config)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split()[0] == str(node.pk)
    named = run_cli(["-p", profile.name, "status", node.uuid], tmp_path, session_config)
    assert named.returncode == 0, named.stderr
    ghost = run_cli(["-p", "ghost", "status", str(node.pk)], tmp_path, session_config)
    assert_refused(ghost, f"profile 'ghost' does not exist (profiles: {profile.name}; default")
    assert config_file.read_text() == before, "no profile was added"


def test_daemon_defaults_to_the_profile_every_command_uses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``daemon stop`` without ``--profile`` acts on the profile ``status`` would open.

    Reference: the convention above (issue 23 audit: `daemon` defaulted to ``janus``, and
    ``restart-broker`` to ``janus-psql``, whatever AiiDA's default profile was)."""
    from aiida.manage.configuration import get_profile
    from click.testing import CliRunner

    import workflows.engine.daemon_start as daemon_start
    from workflows.cli.main import cli

    profile = get_profile()
    assert profile is not None
    stopped: list[str] = []
    monkeypatch.setattr(daemon_start, "stop_daemon_and_wait", stopped.append)
    result = CliRunner().invoke(cli, ["daemon", "stop"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert stopped == [profile.name]
    assert f"daemon of profile {profile.name!r} stopped" in result.output
