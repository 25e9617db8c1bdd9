"""The ``aiida-janus`` command line.

The AiiDA configuration folder is pinned to the project's work folder before AiiDA is
imported anywhere, so the CLI never reads or writes the user's ``~/.aiida`` by surprise.
Nothing is created here: ``setup``/``demo`` create the folder and the profile, every
other command refuses to run without them (:mod:`workflows.cli.profiles`).
"""

import os

from workflows.setup.paths import aiida_path

os.environ.setdefault("AIIDA_PATH", str(aiida_path(create=False)))
