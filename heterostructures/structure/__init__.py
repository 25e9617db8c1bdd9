"""Crystal structure: bulk phases, epitaxial relations, slabs, interface models and their checks (Å)."""
