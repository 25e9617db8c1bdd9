"""AiiDA layer of aiida-janus: workchains, calcfunctions, protocols, set-up and the CLI.

Holds no physics of its own: every science step is a call into ``heterostructures``.
"""
