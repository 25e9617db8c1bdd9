"""Crystal structure (Å): bulk phases, epitaxial relations, slabs, interface models and
their checks."""
