"""CalcJobs of aiida-janus, each with an ``aiida.calculations`` entry point.

Both extend aiida-quantumespresso's CalcJobs and keep their input files byte for byte;
they only change what is kept after the run (the raw projwfc.x files, the pp.x cube).
The entry points (``janus.projwfc_raw``, ``janus.pp_cube``) make stored nodes loadable
by ``load_node`` and ``verdi process show`` without importing a workchain module.
"""

from workflows import engine

# A worker may load one of these CalcJobs (by its entry point) before any janus workchain.
engine.install()
