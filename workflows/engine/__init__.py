"""Engine-side robustness: aiida-core repairs, daemon, broker guard, monitors, storage checks.

:func:`install` is the one entry the janus process packages call at import
(``workflows.workchains`` and ``workflows.calculations``): a worker started by plain
``verdi daemon start`` then has the repairs from its first janus process on. Workers
started by ``aiida-janus daemon start`` have them, and the opted-in parts, before their
first task (:mod:`workflows.engine.daemon_worker`).
"""

from __future__ import annotations


def install() -> list[str]:
    """Install the engine repairs in this process if it is a daemon worker; what was patched.

    Outside a daemon worker (a notebook, ``verdi shell``, a test, the CLI) nothing is
    patched and the list is empty. See :mod:`workflows.engine.repairs` for what the
    repairs do and the aiida-core versions they were checked against.
    """
    from workflows.engine.broker_guard import is_daemon_worker

    if not is_daemon_worker():
        return []
    from workflows.engine.repairs import install_repairs

    return install_repairs()
