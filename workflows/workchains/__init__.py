"""AiiDA workchains, one module per janus.* entry point, named like it.

Importing any of them installs the engine repairs in a daemon worker (and nothing
elsewhere): see :func:`workflows.engine.install`.
"""

from workflows import engine

engine.install()
