"""Structure and electronic-structure science of perovskite/chalcogenide heterostructures.

Pure Python (ase, pymatgen, numpy, scipy): this package never imports AiiDA, so every
function here can be used and tested on its own. The AiiDA layer in ``workflows`` records
calls into it with provenance.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aiida-janus")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
