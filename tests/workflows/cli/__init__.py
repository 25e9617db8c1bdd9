"""Tests of the ``aiida-janus`` command line."""
