"""Electronic structure of an interface: gaps, projected DOS, band edges, both band-offset routes, IS/FS states (eV)."""
