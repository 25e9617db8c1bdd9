"""Opt-in: a janus workchain step re-run after a kill re-uses the child it had launched.

Why: a workchain step that submits a child stores the child at once, but the
workchain's checkpoint, which records that it awaits the child, is written only after
the step. A worker killed in between makes the restarted workchain run the step again
and submit a second, identical child next to the first, which also resumes and runs to
the end (our SIGKILL fault test saw it: ``launching PwCalculation<193> iteration #1``
after ``<190>`` of the same ``PwBaseWorkChain``). The duplicate costs compute; it does
not change results, since the workchain only ever uses the child it awaits.

Off by default: set ``JANUS_SUBMIT_REUSE=1`` in the environment of
``aiida-janus daemon start`` (``workflows/engine/daemon_worker.py``). When on, ``submit`` of
the janus workchain classes only (entry points ``janus.*``; other plugins' workchains
are never touched) returns an existing child instead of launching one when all hold:

- it is an orphan: called by this workchain, not referenced by the checkpointed context
  or the awaited children, and not already handed out by this instance;
- it matches exactly: same process type, same ``call_link_label`` (CALL link), the same
  set of input link labels after aiida-core's own serialisation, defaults and
  flattening of nested namespaces (stored nodes by UUID, new ones by content hash), and
  the same ``metadata_inputs`` (options, label, description, also in nested namespaces);
- it is not terminated and its task is pending in the broker queue (aiida-core's public
  ``get_process_tasks``), so it will run: a RUNNING/WAITING/CREATED child whose task is
  held by a worker or lost is never re-used (with RabbitMQ a held task is invisible, so
  such a child is launched again, as with the option off).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

CLAIMED = "_janus_claimed_children"
INSTALLED_FLAG = "_janus_submit_reuse"
JANUS_PREFIX = "janus."


def _as_class_and_inputs(process: Any, inputs: Mapping[str, Any] | None, kwargs: Any) -> Any:
    """(process class, raw inputs) as ``Runner.submit`` and ``instantiate_process`` form them."""
    from aiida.engine import ProcessBuilder
    from aiida.engine.utils import prepare_inputs

    copied = dict(inputs) if inputs is not None else None  # the caller's dict stays as it is
    given = dict(prepare_inputs(copied, **kwargs))
    if isinstance(process, ProcessBuilder):
        given.update(**process._inputs(prune=True))
        return process.process_class, given
    return process, given


class _Flattener:
    """aiida-core's ``Process._flatten_inputs``/``_filter_serializable_metadata`` without a process.

    Both methods use ``self`` only to recurse; binding them to this object runs aiida's own
    code on a spec, so the comparison follows exactly what a new child would store.
    """

    def __init__(self, process_class: Any) -> None:
        self._flatten_inputs = functools.partial(process_class._flatten_inputs, self)
        self._filter_serializable_metadata = functools.partial(
            process_class._filter_serializable_metadata, self
        )


def expected_record(process_class: Any, given: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """Input link label → node, and ``metadata_inputs``, that a child of these inputs stores.

    Mirrors ``Process.__init__`` (serialise), ``_setup_metadata`` (metadata) and
    ``on_create``/``_setup_inputs`` (defaults, flattening with ``__``, ``None`` skipped).
    """
    from aiida.engine.processes.utils import prune_mapping
    from aiida.orm.implementation.utils import clean_value

    spec = process_class.spec()
    flattener = _Flattener(process_class)
    raw = spec.inputs.serialize(dict(given))
    metadata = prune_mapping(flattener._filter_serializable_metadata(spec.inputs, raw))
    parsed = spec.inputs.pre_process(_copy_dicts(raw))
    key = spec.metadata_key
    payload = {name: value for name, value in parsed.items() if name != key}
    flat = {
        label: node
        for label, node in flattener._flatten_inputs(spec.inputs, payload)
        if node is not None
    }
    return flat, clean_value(metadata) if metadata is not None else None


def _copy_dicts(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy_dicts(item) for key, item in value.items()}
    return value


def _same_node(given: Any, stored: Any) -> bool:
    if given.is_stored:
        return bool(given.uuid == stored.uuid)
    return bool(given.base.caching._compute_hash() == stored.base.caching._compute_hash())


def matches_exactly(
    child: Any, call_link_label: str, flat: Mapping[str, Any], metadata: Any
) -> bool:
    """Does ``child`` carry exactly these input links, metadata inputs and CALL label?"""
    from aiida.common.links import LinkType

    calls = child.base.links.get_incoming(link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK))
    if [link.link_label for link in calls.all()] != [call_link_label]:
        return False
    if (child.get_metadata_inputs() or None) != metadata:
        return False
    stored = {
        link.link_label: link.node
        for link in child.base.links.get_incoming(
            link_type=(LinkType.INPUT_CALC, LinkType.INPUT_WORK)
        ).all()
    }
    if set(stored) != set(flat):
        return False
    return all(_same_node(node, stored[label]) for label, node in flat.items())


def referenced_pks(workchain: Any) -> set[int]:
    """Children the workchain's restored state knows: in its context or awaited."""
    from aiida import orm

    found: set[int] = {awaitable.pk for awaitable in getattr(workchain, "_awaitables", [])}

    def walk(value: Any) -> Iterator[int]:
        if isinstance(value, orm.ProcessNode) and value.pk is not None:
            yield value.pk
        elif isinstance(value, Mapping):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list | tuple | set):
            for item in value:
                yield from walk(item)

    found.update(walk(dict(getattr(workchain, "ctx", {}) or {})))
    return found


def pending_task_pks() -> set[int]:
    """Process pks whose task waits in the broker queue (aiida-core's public API)."""
    from aiida.engine.processes.control import get_process_tasks
    from aiida.manage import get_manager

    broker = get_manager().get_broker()
    return set(get_process_tasks(broker)) if broker is not None else set()


def find_orphaned_child(
    workchain: Any,
    process: Any,
    inputs: Mapping[str, Any] | None = None,
    pending: Callable[[], set[int]] | None = None,
    **kwargs: Any,
) -> Any:
    """The orphan this submit already launched before a kill (see module doc), or None."""
    process_class, given = _as_class_and_inputs(process, inputs, kwargs)
    flat, metadata = expected_record(process_class, given)
    call_link_label = given.get("metadata", {}).get("call_link_label", "CALL")
    process_type = process_class.build_process_type()
    skipped = referenced_pks(workchain) | workchain.__dict__.setdefault(CLAIMED, set())
    candidates = [
        child
        for child in workchain.node.called
        if child.pk not in skipped
        and child.process_type == process_type
        and child.process_state is not None
        and not child.is_terminated
        and matches_exactly(child, call_link_label, flat, metadata)
    ]
    if not candidates:
        return None
    queued = (pending or pending_task_pks)()
    alive = [child for child in candidates if child.pk in queued]
    return min(alive, key=lambda child: child.pk) if alive else None


def _wrap_submit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def submit_once(self: Any, process: Any, inputs: Any = None, **kwargs: Any) -> Any:
        try:
            orphan = find_orphaned_child(self, process, inputs, **kwargs)
        except Exception as error:  # the re-use must never break the workchain
            self.logger.warning(f"orphaned-child check skipped: {error!r}")
            orphan = None
        if orphan is not None:
            self.report(
                f"re-using {orphan.process_label}<{orphan.pk}>, which this step launched "
                "before the daemon was interrupted, instead of launching it again"
            )
            node = orphan
        else:
            node = original(self, process, inputs, **kwargs)
        self.__dict__.setdefault(CLAIMED, set()).add(node.pk)
        return node

    setattr(submit_once, INSTALLED_FLAG, True)
    return submit_once


def janus_workchain_classes() -> list[Any]:
    """Every workchain class registered under an ``aiida.workflows`` entry point ``janus.*``."""
    from importlib.metadata import entry_points

    group = entry_points(group="aiida.workflows")
    return [entry.load() for entry in group if entry.name.startswith(JANUS_PREFIX)]


def install(classes: list[Any] | None = None) -> list[str]:
    """Wrap ``submit`` of the janus workchain classes (only); idempotent. Names wrapped."""
    wrapped = []
    for cls in janus_workchain_classes() if classes is None else classes:
        if not getattr(cls.submit, INSTALLED_FLAG, False):  # a subclass may inherit it
            cls.submit = _wrap_submit(cls.submit)
        wrapped.append(cls.__name__)
    return wrapped
