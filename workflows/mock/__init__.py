"""Mock QE codes that replay recorded real runs, so workchains re-run in seconds without QE.

See :mod:`workflows.mock.executable` for the command, :mod:`workflows.mock.hashing` for
what is hashed and why, and :mod:`workflows.mock.codes` to register mock codes in AiiDA.
"""

from workflows.mock.codes import DEFAULT_STORE, register_mock_code, write_wrapper_script
from workflows.mock.hashing import HashedInputs, hash_inputs, normalise_input
from workflows.mock.store import Recording, RecordingMetadata, RecordingStore, RecordingStoreError

__all__ = [
    "DEFAULT_STORE",
    "HashedInputs",
    "Recording",
    "RecordingMetadata",
    "RecordingStore",
    "RecordingStoreError",
    "hash_inputs",
    "normalise_input",
    "register_mock_code",
    "write_wrapper_script",
]
