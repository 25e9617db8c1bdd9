"""Driver for the fault tests: a throw-away profile with a daemon, running a mock study.

The fault tests need what pytest's in-process profile cannot give: a real daemon (and,
for the production variant, PostgreSQL + RabbitMQ) that can be killed and restarted.
Each command runs in its own process with ``AIIDA_PATH``/``JANUS_WORK_DIR`` pointing at
the test's folder:

    python -m tests.workflows.fault_study setup sqlite|postgresql
    python -m tests.workflows.fault_study submit      → prints the pipeline's pk
    python -m tests.workflows.fault_study status PK   → JSON: state, CalcJob counts, hashes
    python -m tests.workflows.fault_study count       → number of nodes in the profile
    python -m tests.workflows.fault_study window1     → a PwCalculation killed in window 1
    python -m tests.workflows.fault_study revive PK   → send PK's continue task again
    python -m tests.workflows.fault_study teardown    → drops the profile's database

The study is the tiny pipeline of ``test_pipeline.py`` (bulk → interface → electronic
→ IS/FS → AIMD, 15 CalcJobs) on mock codes replaying real QE recordings.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from typing import Any

PROFILE = "faults"


def setup(storage: str) -> None:
    """Profile, ``localhost`` (direct scheduler), mock codes and pseudo families."""
    from aiida import orm

    from workflows.mock.codes import register_mock_code
    from workflows.setup.codes import ROOT_MPI_ENV
    from workflows.setup.paths import work_dir
    from workflows.setup.profile import ensure_production_profile, ensure_profile
    from workflows.setup.pseudos import install_pseudo_family

    if storage == "postgresql":
        from workflows.setup.services import ensure_local_postgres, ensure_local_rabbitmq

        postgres = ensure_local_postgres(PROFILE, work_dir() / "postgres.password")
        ensure_production_profile(PROFILE, postgres, ensure_local_rabbitmq())
    else:
        ensure_profile(PROFILE)
    computer = orm.Computer(
        label="localhost",
        hostname="localhost",
        transport_type="core.local",
        scheduler_type="core.direct",
        workdir=str(work_dir() / "scratch"),
    ).store()
    computer.set_prepend_text(
        (ROOT_MPI_ENV if os.geteuid() == 0 else "") + "export OMP_NUM_THREADS=1"
    )
    computer.set_default_mpiprocs_per_machine(1)
    computer.configure(safe_interval=0.0)
    computer.set_minimum_job_poll_interval(0.5)
    for name in ("pw.x", "projwfc.x", "pp.x"):
        register_mock_code(name, computer, work_dir() / "bin")
        # Also under the labels `aiida-janus run` looks for (pw@localhost, ...).
        register_mock_code(name, computer, work_dir() / "bin", label=name.removesuffix(".x"))
    for flavour in ("paw", "nc"):
        install_pseudo_family(flavour)


def submit() -> None:
    """Submit the tiny study to the daemon; print its pk."""
    from aiida import load_profile, orm
    from aiida.engine import submit as submit_process

    from tests.workflows.workchains.test_pipeline import TINY_STEPS, _serial
    from workflows.workchains.pipeline import PipelineWorkChain

    load_profile(PROFILE)
    codes = {name: orm.load_code(f"mock-{name}.x@localhost") for name in ("pw", "projwfc", "pp")}
    builder = _serial(
        PipelineWorkChain.get_builder_from_protocol(codes, protocol="fast", overrides=TINY_STEPS)
    )
    builder.skip = orm.List(["alignment", "na"])
    print(submit_process(builder).pk)


def status(pk: int) -> dict[str, Any]:
    """State of the study and of every CalcJob below it; the full account once it ended.

    While the study runs, only counts (the tests poll every second, and a long read of
    the SQLite database blocks the daemon's writes: "database is locked"); once it is
    terminated, also hashes, restarts, failures, repairs and twins (one read, at the end).
    ``distinct_finished``: distinct input hashes among the CalcJobs that finished, with any
    exit status (the uninterrupted study has one non-zero too: a recorded bulk vc-relax
    ends with 501, which the study accepts), so a calculation counts as lost only when it
    never finished at all.
    """
    from aiida import load_profile, orm

    from workflows.engine.stranded import is_stranded
    from workflows.provenance.process_tree import called_processes

    load_profile(PROFILE)
    study = orm.load_node(pk)
    nodes = [node for _, node in called_processes(pk) if isinstance(node, orm.CalcJobNode)]
    counts = {
        "state": study.process_state.value if study.process_state else None,
        "exit_status": study.exit_status,
        "finished_ok": study.is_finished_ok,
        "calcjobs": len(nodes),
        "calcjobs_finished_ok": sum(node.is_finished_ok for node in nodes),
        "calcjobs_terminated": sum(node.is_terminated for node in nodes),
    }
    if not study.is_terminated:
        return counts
    # a stranded twin (never ran) is not work done twice: left out of the duplicates
    node_hashes = {
        node.pk: node.base.caching.compute_hash() for node in nodes if not is_stranded(node)
    }
    hashes = Counter(node_hashes.values())
    return {
        **counts,
        "duplicated_inputs": sum(count - 1 for count in hashes.values()),
        # distinct calculations that finished (benchmarks/faults.py: "lost")
        "distinct_finished": len({node_hashes[n.pk] for n in nodes if n.is_finished}),
        "base_restarts": _restarts(pk),
        "failed": _failures(pk),
        "remote_folders_restored": sum(map(_remote_folder_restored, nodes)),
        "retrieves_repeated": sum(map(_retrieve_repeated, nodes)),
        "children_reused": _reused(pk),
        # twins that never ran, killed when their caller terminated (engine/stranded.py)
        "stranded_calcjobs": sum(map(is_stranded, nodes)),
        **_twins(pk),
        "unterminated": _unterminated(nodes),
    }


def _unterminated(nodes: list[Any]) -> list[str]:
    """Each CalcJob still active when the study ended: state, status, caller, queued task.

    Why: a twin whose caller awaits the other copy is never waited for; the fault record
    must say whether it was still running (its task held by a worker) or waiting with no
    task in the broker queue (then nothing will ever run it).
    """
    active = [node for node in nodes if not node.is_terminated]
    if not active:
        return []
    try:
        from workflows.engine.submit_reuse import pending_task_pks

        queued: set[int] | None = pending_task_pks()
    except Exception:  # no broker reachable from this process: say so, do not guess
        queued = None
    lines = []
    for node in active:
        caller = node.caller
        task = "unknown" if queued is None else ("queued" if node.pk in queued else "not queued")
        by = f"{caller.process_label}<{caller.pk}> {_state(caller)}" if caller else "none"
        lines.append(
            f"{node.process_label}<{node.pk}> {_state(node)} "
            f"({node.process_status or 'no status'}); caller {by}; task {task}"
        )
    return lines


def _state(node: Any) -> str:
    """A process state for a record line; a node stored but not yet given one says so."""
    return node.process_state.value if node.process_state is not None else "no state yet"


def _signature(node: Any) -> tuple[Any, ...]:
    """What makes two launches by one parent the same launch: type, CALL label, inputs."""
    from aiida.common.links import LinkType

    call = node.base.links.get_incoming(link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK)).one()
    inputs = node.base.links.get_incoming(link_type=(LinkType.INPUT_CALC, LinkType.INPUT_WORK))
    hashes = frozenset(
        (link.link_label, link.node.base.caching.get_hash()) for link in inputs.all()
    )
    return (call.node.pk, node.process_type, call.link_label, hashes)


def _used(node: Any) -> bool:
    """Do the results of ``node`` count: returned by its caller or read by a process outside it?

    A twin launched again after a kill (window of the workchain checkpoint) runs to its
    end, but its caller awaits the other one: none of its outputs is ever used.
    """
    from aiida.common.links import LinkType

    caller = node.caller
    inside = {node.pk, *(descendant.pk for descendant in node.called_descendants)}
    outputs = node.base.links.get_outgoing(link_type=(LinkType.CREATE, LinkType.RETURN))
    for output in outputs.all_nodes():
        for link in output.base.links.get_incoming(link_type=LinkType.RETURN).all():
            if link.node.pk == caller.pk:
                return True
        readers = output.base.links.get_outgoing(
            link_type=(LinkType.INPUT_CALC, LinkType.INPUT_WORK)
        ).all_nodes()
        if any(reader.pk not in inside for reader in readers):
            return True
    return False


def _twins(pk: int) -> dict[str, Any]:
    """Processes launched twice by the same parent with the same inputs (see ``_used``).

    ``twins``: one line per group (which member counts, which are orphans);
    ``orphaned_calcjobs``: CalcJobs in the orphans' subtrees (work done twice, unused).
    A stranded member (launched, never run, killed when its caller terminated:
    ``workflows/engine/stranded.py``) is neither used nor an orphan.
    """
    from collections import defaultdict

    from aiida import orm

    from workflows.engine.stranded import is_stranded
    from workflows.provenance.process_tree import called_processes

    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for _, node in called_processes(pk):
        groups[_signature(node)].append(node)
    lines, orphaned, bad = [], 0, 0
    for members in (group for group in groups.values() if len(group) > 1):
        used = [member for member in members if _used(member)]
        unused = [member for member in members if not _used(member) and member.is_finished_ok]
        stranded = [member.pk for member in members if is_stranded(member)]
        bad += len(used) != 1
        for orphan in unused:
            subtree = [orphan, *orphan.called_descendants]
            orphaned += sum(isinstance(n, orm.CalcJobNode) for n in subtree)
        lines.append(
            f"{members[0].process_label}: used {[m.pk for m in used]}, "
            f"orphans {[m.pk for m in unused]}, stranded {stranded}, "
            f"all {[m.pk for m in members]}"
        )
    return {"twins": lines, "orphaned_calcjobs": orphaned, "twin_groups_not_one_used": bad}


def _reused(pk: int) -> int:
    """How often ``workflows/engine/submit_reuse.py`` handed back a child instead of a new
    launch."""
    from aiida import orm

    from workflows.provenance.process_tree import called_processes

    return sum(
        "re-using" in log.message
        for _, node in called_processes(pk)
        if isinstance(node, orm.WorkflowNode)
        for log in orm.Log.collection.get_logs_for(node)
    )


def _retrieve_repeated(node: Any) -> bool:
    """Did ``workflows/engine/repairs.py`` retrieve this CalcJob again (window 2)?"""
    from aiida import orm

    return any("retrieving again" in log.message for log in orm.Log.collection.get_logs_for(node))


def _remote_folder_restored(node: Any) -> bool:
    """Did ``workflows/engine/repairs.py`` re-attach this CalcJob's ``remote_folder``?"""
    from aiida import orm

    return any(
        "restored the `remote_folder`" in log.message
        for log in orm.Log.collection.get_logs_for(node)
    )


def _failures(pk: int) -> list[str]:
    """Every process below the study that failed or excepted, with why (for the report)."""
    from aiida import orm

    from workflows.provenance.process_tree import called_processes

    failures = []
    for _, node in called_processes(pk):
        if not isinstance(node, orm.ProcessNode) or not node.is_terminated or node.is_finished_ok:
            continue
        last_line = (node.exception or "").strip().splitlines()[-1:]
        why = node.exit_message or (last_line[0] if last_line else "")
        state = node.process_state.value if node.process_state else "?"
        failures.append(f"{node.process_label}<{node.pk}> {state} {node.exit_status}: {why}")
    return failures


def _restarts(pk: int) -> int:
    """PwBaseWorkChain iterations beyond the first (a re-run calculation shows up here).

    Counted from the iteration reports (``launching PwCalculation<N> iteration #I``), so
    a twin launched again after a kill at the same iteration is not a restart.
    """
    import re

    from aiida import orm

    from workflows.provenance.process_tree import called_processes

    extra = 0
    for _, node in called_processes(pk):
        if node.process_label in ("PwBaseWorkChain", "JanusPwBaseWorkChain"):
            logs = orm.Log.collection.get_logs_for(node)
            found = (re.search(r"iteration #(\d+)", log.message) for log in logs)
            iterations = {int(match[1]) for match in found if match}
            extra += max(0, len(iterations) - 1)
    return extra


def window1() -> None:
    """Run a PwCalculation that dies in window 1 (``workflows/engine/repairs.py``); print pk.

    The real upload runs and writes UNSTASHING; the process exits before the next
    checkpoint links ``remote_folder``, exactly as a SIGKILLed worker would. The node
    stays WAITING at the upload command with no task: ``revive`` sends it.
    """
    import os

    from aiida import load_profile, orm
    from aiida.engine.processes.calcjobs import tasks

    from tests.workflows.mock.test_mock import cds_pw_inputs, run_pw
    from workflows.setup.pseudos import install_pseudo_family

    load_profile(PROFILE)
    upload = tasks.task_upload_job

    async def upload_then_die(process: Any, *args: Any) -> Any:
        await upload(process, *args)
        print(process.node.pk, flush=True)
        os._exit(0)

    tasks.task_upload_job = upload_then_die  # type: ignore[assignment]
    code = orm.load_code("mock-pw.x@localhost")
    assert isinstance(code, orm.InstalledCode)
    run_pw(cds_pw_inputs(code, install_pseudo_family("nc")))


def revive(pk: int) -> None:
    """Send the continue task of process ``pk`` (aiida-core's ``revive_processes``)."""
    from aiida import load_profile, orm
    from aiida.engine.processes.control import revive_processes

    load_profile(PROFILE)
    node = orm.load_node(pk)
    assert isinstance(node, orm.ProcessNode)
    revive_processes([node])


def calcjob(pk: int) -> dict[str, Any]:
    """A CalcJob's state, outputs and log (window-1 worker test)."""
    from aiida import load_profile, orm

    load_profile(PROFILE)
    node = orm.load_node(pk)
    return {
        "state": node.process_state.value if node.process_state else None,
        "exit_status": node.exit_status,
        "outputs": sorted(node.outputs),
        "remote_path": node.outputs.remote_folder.get_remote_path()
        if "remote_folder" in node.outputs
        else None,
        "workdir": node.get_remote_workdir(),
        "log": [log.message for log in orm.Log.collection.get_logs_for(node)],
    }


def count_nodes() -> int:
    """Nodes in the profile (to show a failed launch stored nothing)."""
    from aiida import load_profile, orm

    load_profile(PROFILE)
    return int(orm.QueryBuilder().append(orm.Node).count())


def teardown() -> None:
    """Drop the production profile's database (the folder is pytest's to remove)."""
    from aiida.manage.configuration import get_config

    from workflows.setup.services import drop_local_database

    config = get_config()
    if PROFILE in config.profile_names:
        profile = config.get_profile(PROFILE)
        if profile.storage_backend == "core.psql_dos":
            drop_local_database(profile.storage_config["database_name"])


def main(argv: list[str]) -> None:
    """Command-line entry: see the module docstring."""
    from workflows.setup.profile import configure_aiida_dir

    configure_aiida_dir()
    command, *args = argv
    if command == "setup":
        setup(args[0])
    elif command == "submit":
        submit()
    elif command == "status":
        print(json.dumps(status(int(args[0]))))
    elif command == "count":
        print(count_nodes())
    elif command == "window1":
        window1()
    elif command == "revive":
        revive(int(args[0]))
    elif command == "calcjob":
        print(json.dumps(calcjob(int(args[0]))))
    elif command == "teardown":
        teardown()
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
