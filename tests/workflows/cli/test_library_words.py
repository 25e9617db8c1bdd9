"""Library refusals in CLI words: each argument becomes the command's option, or points at
``aiida-janus build`` when the command has none.

Reference: the library's own messages, copied verbatim from ``aiida-janus`` runs on
2026-12-05 (``build --coincidence off --chalcogenide ZnS``; ``run``/``plan --perovskite
CsPbI3 --chalcogenide ZnS --protocol stringent``), and issue 23: "Errors name CLI options,
not Python arguments".
"""

from __future__ import annotations

import re

import pytest

from workflows.cli.library_words import BUILD_OPTIONS, RUN_OPTIONS, cli_words

OFF = (
    "CsPbBr3/ZnS needs 3.90 % strain on one side (perovskite -3.62/-3.62 %, chalcogenide"
    " +3.90/+3.90 %) > max_strain_percent=1.0 in this cell (coincidence='off'): use"
    " coincidence='auto' without explicit directions, move strain_weight, or raise the bound"
)
CAP = (
    "CsPbI3/ZnS: the 1:1 cell needs 7.40 % (…) > max_strain_percent=1; the smallest"
    " coincidence cell that meets it has 376 atoms > max_atoms=300 (376 atoms: …, area 329.1"
    " Å², …): pass max_atoms=376 (--max-atoms) or raise max_strain_percent (--max-strain)"
)
PYTHON_NAME = re.compile(r"max_strain_percent|max_atoms|strain_weight|coincidence=")


@pytest.mark.parametrize("options", [BUILD_OPTIONS, RUN_OPTIONS, frozenset()])
@pytest.mark.parametrize("message", [OFF, CAP])
def test_no_python_argument_is_left(message: str, options: frozenset[str]) -> None:
    words = cli_words(message, options)
    assert PYTHON_NAME.search(words) is None, words
    assert "(--max-atoms)" not in words
    assert "(--max-strain)" not in words
    assert words.split(">")[0] == message.split(">")[0], "the measured part is kept as is"


def test_build_names_its_own_options() -> None:
    assert cli_words(OFF, BUILD_OPTIONS).endswith(
        "> --max-strain 1.0 in this cell (--coincidence off): use --coincidence auto"
        " without explicit directions, move --strain-weight, or raise the bound"
    )
    assert cli_words(CAP, BUILD_OPTIONS).endswith("pass --max-atoms 376 or raise --max-strain")


def test_run_points_at_build_for_an_option_it_lacks() -> None:
    words = cli_words(CAP, RUN_OPTIONS)
    assert "> --max-strain 1;" in words
    assert "376 atoms > the atom bound 300 (" in words
    assert words.endswith("pass `aiida-janus build --max-atoms 376` or raise --max-strain")


def test_a_command_without_options_states_bounds_in_words() -> None:
    words = cli_words(CAP, frozenset())
    assert "> the strain bound 1 %;" in words
    assert words.endswith(
        "pass `aiida-janus build --max-atoms 376` or raise `aiida-janus build --max-strain`"
    )


def test_a_message_without_arguments_is_unchanged() -> None:
    text = "26 atoms: use fewer planes or a smaller in-plane cell (max 3 planes)"
    assert cli_words(text, BUILD_OPTIONS) == text
