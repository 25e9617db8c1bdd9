"""Electronic structure (eV): gaps, projected DOS, edges, both offset routes, IS/FS states."""
