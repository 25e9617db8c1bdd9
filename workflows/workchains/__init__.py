"""AiiDA workchains, one module per janus.* entry point, named like it."""
