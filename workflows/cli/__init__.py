"""The ``aiida-janus`` command line.

The AiiDA configuration folder is pinned to the project's work folder before AiiDA is
imported anywhere, so the CLI never reads or writes the user's ``~/.aiida`` by surprise.
"""

from workflows.setup.paths import ensure_aiida_path

ensure_aiida_path()
