"""Calcfunctions: AiiDA nodes in, a heterostructures call, nodes out — provenance around
the science."""
