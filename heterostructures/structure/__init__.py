"""Crystal structure (Å): bulk phases, epitaxy, slabs, interface models and their checks."""
