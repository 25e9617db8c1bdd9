"""Engine-side robustness: aiida-core repairs, daemon start and workers, broker guard, monitors, storage checks."""
