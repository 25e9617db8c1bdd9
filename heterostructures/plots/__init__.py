"""Figures (SVG + 300 dpi PNG): alignment, electronic structure, MD, NA analysis."""
