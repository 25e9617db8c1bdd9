"""Quantum ESPRESSO files: projwfc.x, cube, wavefunctions, pw.x MD and SCF output."""
