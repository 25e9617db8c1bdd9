"""Non-adiabatic dynamics (fs): couplings, spectra, dephasing, propagation, hopping, fits."""
