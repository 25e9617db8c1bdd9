"""Names of the pipeline's steps, importable without AiiDA (the CLI's choices use them)."""

STEPS = ("bulk", "interface", "electronic", "alignment", "charge_densities", "aimd", "na")
SIDES = ("perovskite", "chalcogenide")
