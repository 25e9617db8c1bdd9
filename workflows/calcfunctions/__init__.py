"""Calcfunctions: nodes in, one heterostructures call, nodes out (provenance, no science)."""
