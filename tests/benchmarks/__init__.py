"""Tests of the scripts in ``benchmarks/`` (their pure parts: no benchmark is run)."""
