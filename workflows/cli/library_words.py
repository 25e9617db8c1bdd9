"""Refusals of the structure library, said in the words of the command line.

The library (``heterostructures/``, no CLI) names its Python arguments: ``>
max_strain_percent=1``, ``pass max_atoms=376 (--max-atoms)``, ``use coincidence='auto'``,
``move strain_weight``. Issue 23 asks that errors name CLI options, and only options the
command has: ``run`` has ``--max-strain`` but no ``--max-atoms``, ``plan`` neither. So a
command shows each argument as its own option when it has one; otherwise an instruction
points at ``aiida-janus build``, the command that has them all (its model then runs with
``run --structure``), and a stated bound is named in words.
"""

from __future__ import annotations

import re
from collections.abc import Collection

OPTIONS = {
    "max_strain_percent": "--max-strain",
    "max_atoms": "--max-atoms",
    "strain_weight": "--strain-weight",
    "coincidence": "--coincidence",
}
"""Library argument → the ``build`` option that sets it."""
BUILD_OPTIONS = frozenset(OPTIONS)
"""``build`` has every one of them."""
RUN_OPTIONS = frozenset({"max_strain_percent"})
"""``run``/``submit`` have ``--max-strain`` only (the protocol sets the rest)."""
_NOUNS = {
    "max_strain_percent": "the strain bound {} %",
    "max_atoms": "the atom bound {}",
    "strain_weight": "the strain weight {}",
    "coincidence": "coincidence {}",
}
"""How a stated value reads when the command has no option for it."""

_NAME = "|".join(OPTIONS)
_VALUE = r"'?([^\s',;:()]+)'?"
_ECHO = r"(?: \(--[a-z-]+\))?"  # the library's own "(--max-atoms)" after the argument
_INSTRUCTION = re.compile(rf"\b(pass|raise|move|use) ({_NAME})(?:={_VALUE})?{_ECHO}")
_STATED = re.compile(rf"\b({_NAME})={_VALUE}")


def cli_words(message: str, options: Collection[str]) -> str:
    """``message`` with every library argument named as the command's option (``options``:
    the library arguments it has as options, e.g. :data:`RUN_OPTIONS`)."""

    def instruction(match: re.Match[str]) -> str:
        verb, name, value = match.groups()
        flag = OPTIONS[name] + (f" {value}" if value else "")
        if name in options:
            return f"{verb} {flag}"
        return f"{verb} `aiida-janus build {flag}`"

    def stated(match: re.Match[str]) -> str:
        name, value = match.groups()
        if name in options:
            return f"{OPTIONS[name]} {value}"
        return _NOUNS[name].format(value)

    return _STATED.sub(stated, _INSTRUCTION.sub(instruction, message))
