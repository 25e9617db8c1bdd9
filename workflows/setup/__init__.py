"""Set-up of the embedded environment: work folder, QE, pseudopotentials, profile, codes."""
