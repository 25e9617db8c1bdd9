"""How a message names what a node is: its entry point, or its class with an article.

Users meet processes by their entry-point names (``janus.alignment``, ``quantumespresso.pw``:
what ``aiida-janus query studies`` and ``verdi plugin list`` show), so a message says
"<636> is janus.alignment" rather than "<636> is a AlignmentSeriesWorkChain". A node without
an entry point (plain data, a process class outside a plugin) is named by its class with
the article its spelling takes ("an Int", "a WorkflowNode").
"""

from __future__ import annotations

from typing import Any

VOWEL_SOUNDS = frozenset("aeio")
"""First letters read with a vowel sound; ``u`` is left out (``a UpfData``, ``a User``)."""


def article(word: str) -> str:
    """``an`` before a vowel sound, else ``a`` (``an Int``, ``a Dict``, ``a UpfData``)."""
    return "an" if word[:1].lower() in VOWEL_SOUNDS else "a"


def node_kind(node: Any) -> str:
    """What ``node`` is, to follow "is": ``janus.alignment`` for a process of a plugin's
    entry point (its ``process_type`` is ``aiida.<group>:<name>``), otherwise its process
    label or class with an article (``an Int``, ``a WorkflowNode``)."""
    group, separator, name = (getattr(node, "process_type", None) or "").partition(":")
    if separator and group.startswith("aiida.") and name:
        return name
    label = getattr(node, "process_label", None) or type(node).__name__
    return f"{article(label)} {label}"
