"""Non-adiabatic dynamics on an MD trajectory (fs): couplings, spectra, dephasing,
propagation, surface hopping, fits."""
