"""Tests of aiida-janus (mirroring the package tree).

Importing AiiDA reads ``AIIDA_PATH`` once; pointing it at the project's work folder here,
before ``tests.conftest`` loads AiiDA's pytest plugin, keeps a bare ``pytest`` run from
creating ``~/.aiida`` (the test profile itself is a temporary one).
"""

from workflows.setup.paths import ensure_aiida_path

ensure_aiida_path()
