"""Set-up of graphviz's ``dot``: installed with apt as root, never a reason to fail.

apt and the file system are replaced by recorders (no package is installed): the
reference is the sequence of apt-get calls each situation must make, and the promise that
no situation raises.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from workflows.setup import graphviz


def _machine(
    monkeypatch: pytest.MonkeyPatch, *, root: bool, apt_ok: Callable[[list[str]], bool]
) -> list[list[str]]:
    """A machine without ``dot`` whose apt-get answers by ``apt_ok``; ``dot`` appears once
    an install succeeded. Returns the apt-get calls made."""
    calls: list[list[str]] = []
    installed: list[bool] = []

    def run(command: list[str], **_: Any) -> None:
        calls.append(command[1:])
        if not apt_ok(command[1:]):
            raise subprocess.CalledProcessError(100, command)
        if command[1] == "install":
            installed.append(True)

    def which(name: str) -> str | None:
        if name == "dot":
            return "/usr/bin/dot" if installed else None
        return f"/usr/bin/{name}"

    monkeypatch.setattr(graphviz.subprocess, "run", run)
    monkeypatch.setattr(graphviz.shutil, "which", which)
    monkeypatch.setattr(graphviz.os, "geteuid", lambda: 0 if root else 1000)
    return calls


INSTALL = ["install", "-y", "-qq", "--no-install-recommends", "graphviz"]


def test_root_installs_without_refreshing_lists_when_that_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _machine(monkeypatch, root=True, apt_ok=lambda _: True)
    assert graphviz.ensure_graphviz() == "graphviz: installed with apt-get"
    assert calls == [INSTALL]


def test_stale_lists_are_refreshed_once_then_the_install_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[str] = []

    def apt_ok(arguments: list[str]) -> bool:
        attempts.append(arguments[0])
        return attempts != ["install"]  # the first install fails

    calls = _machine(monkeypatch, root=True, apt_ok=apt_ok)
    assert graphviz.ensure_graphviz() == "graphviz: installed with apt-get"
    assert calls == [INSTALL, ["update", "-qq"], INSTALL]


def test_no_apt_access_only_says_how_to_get_the_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _machine(monkeypatch, root=True, apt_ok=lambda _: False)
    message = graphviz.ensure_graphviz()
    assert message.startswith("graphviz: apt-get could not install it;")
    assert "sudo apt-get install -y graphviz" in message
    assert calls == [INSTALL, ["update", "-qq"]]


def test_not_root_or_already_there_makes_no_apt_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _machine(monkeypatch, root=False, apt_ok=lambda _: True)
    assert "`dot` not found; install it with `sudo apt-get" in graphviz.ensure_graphviz()
    monkeypatch.setattr(graphviz.shutil, "which", lambda name: f"/opt/bin/{name}")
    assert graphviz.ensure_graphviz() == "graphviz: `dot` found at /opt/bin/dot"
    assert calls == []
