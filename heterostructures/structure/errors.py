"""Errors raised by the structure-building modules, each naming what the user should fix.

All are ``ValueError`` subclasses, so callers that only care about "bad input" can catch
``ValueError``; callers that want to react to one case (e.g. retry with a looser
tolerance) can catch the specific class.
"""

from __future__ import annotations


class StructureInputError(ValueError):
    """Base class: the structure request cannot be satisfied as given."""


class UnknownElementError(StructureInputError):
    """An element has no formal ionic charge or is not a valid chemical symbol."""


class UnknownPhaseError(StructureInputError):
    """A phase name or a formula/phase pair is not known and no lattice was given."""


class InvalidMillerIndexError(StructureInputError):
    """A Miller index (or direction) is the zero vector or not integer."""


class NoEpitaxialMatchError(StructureInputError):
    """No 2D supercell pair matches within the user's tolerances."""


class StrainTooLargeError(StructureInputError):
    """The strain one side must take exceeds the user's bound."""


class TooFewLayersError(StructureInputError):
    """A slab was requested with fewer atomic planes than the construction needs."""


class RegistryError(StructureInputError):
    """No in-plane registry satisfies the minimum contact-distance bound."""
