"""AiiDA layer of aiida-janus: workchains, calcfunctions, protocols, set-up and the CLI.

Holds no physics of its own: every science step is a call into ``heterostructures``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aiida-janus")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
