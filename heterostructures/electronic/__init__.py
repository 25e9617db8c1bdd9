"""Electronic structure of an interface (eV): gaps, projected DOS, band edges, both
band-offset routes, IS/FS states."""
