"""Non-adiabatic dynamics on an MD trajectory: couplings, spectra, dephasing, propagation, surface hopping, fits (fs)."""
