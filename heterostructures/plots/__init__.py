"""Figures for papers (SVG + 300 dpi PNG, matplotlib Agg): alignment, electronic
structure, NA analysis."""
