"""Protocols (fast / balanced / stringent) of the janus workchains, as YAML files.

Each workchain has one YAML file here in aiida-quantumespresso's format
(``default_inputs``, ``default_protocol``, ``protocols``), read through
aiida-quantumespresso's own ``ProtocolMixin`` so overrides merge and validate the same way.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any, ClassVar

from aiida.engine.processes.utils import prune_mapping
from aiida_quantumespresso.workflows.protocols.utils import ProtocolMixin

PROTOCOL_DIR = pathlib.Path(__file__).parent
PROTOCOL_NAMES = ("fast", "balanced", "stringent")


class UnknownProtocolError(ValueError):
    """The protocol name is not one of the file's protocols."""


class JanusProtocolMixin(ProtocolMixin):
    """``ProtocolMixin`` reading ``workflows/protocols/<_protocol_file>``."""

    _protocol_file: ClassVar[str]

    @classmethod
    def get_protocol_filepath(cls) -> pathlib.Path:
        """The YAML file of this workchain's protocols."""
        return PROTOCOL_DIR / cls._protocol_file

    @classmethod
    def checked_protocol_inputs(
        cls, protocol: str | None, overrides: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Protocol inputs merged with overrides; a clear error for an unknown protocol."""
        available = cls.get_available_protocols()
        if protocol is not None and protocol not in available:
            raise UnknownProtocolError(
                f"unknown protocol {protocol!r} for {cls.__name__}: "
                f"choose one of {sorted(available)}"
            )
        inputs: dict[str, Any] = cls.get_protocol_inputs(protocol, overrides)
        return inputs


def namespace_inputs(builder: Mapping[str, Any], *provided: str) -> dict[str, Any]:
    """What a sub-process ``builder`` sets, as the value of the namespace that exposes it,
    without ``provided`` (dotted paths such as ``"pw.structure"``: what the parent
    workchain gives at run time).

    The parent's ``get_builder_from_protocol`` thus composes the sub-process's own
    ``get_builder_from_protocol``, as aiida-quantumespresso's ``PdosWorkChain`` fills
    ``scf`` from ``PwBaseWorkChain``'s. A builder creates every sub-namespace up front; an
    empty one with required ports (``metadata.options.resources`` of an optional sub-step
    such as ``PwRelaxWorkChain``'s ``base_init_relax``) fails validation once assigned to
    the parent, so empty namespaces are pruned first, as AiiDA prunes them at launch.
    """
    inputs: dict[str, Any] = prune_mapping(builder)
    for path in provided:
        *parents, name = path.split(".")
        target = inputs
        for parent in parents:
            target = target.get(parent, {})
        target.pop(name, None)
    return inputs
