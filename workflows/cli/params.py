"""Shared click parameter types: every value a user types is checked here, once, up front.

Numbers are finite and inside a stated range (``nan`` passes click's ``FloatRange``, and
``inf`` passes an open one); output paths are not empty, not a file where a folder is
wanted (or the reverse) and writable; node identifiers (PK, UUID or UUID prefix, label)
resolve to a node of the expected kind in the chosen profile. A bad value ends in click's
one line ``Error: Invalid value for '--option': …`` (exit code 2) before anything runs.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

if TYPE_CHECKING:
    from aiida import orm

MAX_PK = 2**63 - 1
"""Largest primary key the SQLite/PostgreSQL ``BIGINT`` id column holds."""


class BoundedFloat(click.ParamType):
    """A finite float in ``[low, high]`` (``(low, high]`` with ``low_open``), with its unit
    and the reason for the range, both repeated in the refusal."""

    name = "float"

    def __init__(
        self, low: float, high: float, unit: str = "", why: str = "", low_open: bool = False
    ) -> None:
        self.low, self.high, self.unit, self.why, self.low_open = low, high, unit, why, low_open

    def describe(self) -> str:
        """``from 3.9 to 7 Å (why)`` or ``more than 0 and at most 100 %``."""
        unit = f" {self.unit}" if self.unit else ""
        start = f"more than {self.low:g} and at most" if self.low_open else f"from {self.low:g} to"
        return f"{start} {self.high:g}{unit}" + (f" ({self.why})" if self.why else "")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number: give one {self.describe()}", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number: give one {self.describe()}", param, ctx)
        below = number <= self.low if self.low_open else number < self.low
        if below or number > self.high:
            self.fail(
                f"{number:g} is outside the range: give a value {self.describe()}", param, ctx
            )
        return number


PSEUDO_CUBIC_A = BoundedFloat(
    3.9,
    7.0,
    "Å",
    "halide perovskites span ≈4.0 Å (KMgF3) to ≈6.4 Å (FAPbI3); the facet search grows "
    "steeply below it",
)
ZINC_BLENDE_A = BoundedFloat(
    4.8,
    7.0,
    "Å",
    "zinc-blende sulfides, selenides and tellurides span ≈4.9 Å (BeS) to ≈6.5 Å (CdTe); "
    "the facet search grows steeply below it",
)
STRAIN_PERCENT = BoundedFloat(0.0, 100.0, "%", low_open=True)
SHARE = BoundedFloat(0.0, 1.0, why="a share")


class OutputPath(click.ParamType):
    """Where a command writes: a ``folder`` (created if new) or a ``file`` (in an existing
    folder). Refused before any work: an empty path (it would write into the current folder),
    a file where a folder is wanted or the reverse, and a place this user cannot write to
    (probed by creating and removing a temporary folder, which also catches read-only and
    virtual file systems that permission bits do not show)."""

    name = "path"

    def __init__(self, kind: Literal["folder", "file"]) -> None:
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        if not str(value).strip():
            example = "report" if self.kind == "folder" else "study.aiida"
            self.fail(f"the path is empty: give a {self.kind} name, e.g. {example}", param, ctx)
        path = Path(value).expanduser()
        if self.kind == "folder" and path.exists() and not path.is_dir():
            self.fail(f"{path} is an existing file: give a folder (new or existing)", param, ctx)
        if self.kind == "file" and path.is_dir():
            self.fail(f"{path} is a folder: give a file name in it", param, ctx)
        folder = path if self.kind == "folder" else path.parent
        if self.kind == "file" and not folder.is_dir():
            self.fail(f"folder {folder} does not exist: create it first", param, ctx)
        problem = _unwritable(folder)
        if problem:
            self.fail(problem, param, ctx)
        return path


def _unwritable(folder: Path) -> str | None:
    """Why nothing can be written at ``folder`` (its nearest existing ancestor), or None."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, so {folder} cannot be a folder: choose another path"
    try:
        Path(tempfile.mkdtemp(prefix=".aiida-janus-probe-", dir=existing)).rmdir()
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror}): choose a writable path"
    return None


NodeKind = Literal["node", "workflow", "study"]


class NodeParam(click.ParamType):
    """A node given as PK, UUID (or a unique prefix) or label, loaded from the chosen profile
    (so the command's ``--profile`` must be eager) and checked to be of ``kind``: any node,
    a workflow, or a study (a ``janus.*`` workflow, or one tagged with its materials)."""

    name = "pk|uuid|label"

    def __init__(self, kind: NodeKind = "workflow") -> None:
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str | int):
            return value
        from workflows.cli.profiles import use_profile

        text = str(value).strip()
        if not text:  # aiida's loader raises a bare ValueError on an empty identifier
            self.fail("the identifier is empty: give a PK, UUID or label", param, ctx)
        profile = use_profile()
        node = _load_node(text, profile, self, param, ctx)
        problem = _wrong_kind(node, self.kind)
        if problem:
            self.fail(problem, param, ctx)
        return node


def _load_node(
    text: str, profile: str, param_type: NodeParam, param: click.Parameter | None, ctx: Any
) -> orm.Node:
    """The node ``text`` names; PKs outside the id column's range are refused, not queried."""
    from aiida.common.exceptions import MultipleObjectsError, NotExistent
    from aiida.orm.utils.loaders import NodeEntityLoader

    hint = "list studies with `aiida-janus query studies` or processes with `verdi process list -a`"
    identifier: str | int = text
    if text.lstrip("-").isdigit():
        identifier = int(text)
        if not 1 <= identifier <= MAX_PK:
            param_type.fail(
                f"no node with PK {text} (PKs run from 1 to 2^63-1): {hint}", param, ctx
            )
    try:
        return NodeEntityLoader.load_entity(identifier)
    except NotExistent:
        kind = "PK" if isinstance(identifier, int) else "PK, UUID or label"
        param_type.fail(f"no node with {kind} {text} in profile {profile!r}: {hint}", param, ctx)
    except MultipleObjectsError:
        param_type.fail(f"{text!r} matches several nodes: give the PK or the full UUID", param, ctx)


def _wrong_kind(node: orm.Node, kind: NodeKind) -> str | None:
    """Why ``node`` is not of ``kind``, naming what it is; None if it is."""
    from aiida.orm import WorkflowNode

    if kind == "node":
        return None
    from workflows.provenance.node_names import node_kind

    what = f"<{node.pk}> is {node_kind(node)}"
    if not isinstance(node, WorkflowNode):
        return (
            f"{what}, not a workflow: give the PK of a workflow (a study), "
            "e.g. from `aiida-janus query studies`"
        )
    if kind == "study" and not is_study(node):
        return f"{what}, not a study (a janus.* workflow): see `aiida-janus query studies`"
    return None


def is_study(node: orm.WorkflowNode) -> bool:
    """A ``janus.*`` workflow, or any workflow tagged with its materials pair (``tag_study``)."""
    entry = (node.process_type or "").partition(":")[2]
    return entry.startswith("janus.") or node.base.extras.get("perovskite", None) is not None


class ComputerYaml(click.Path):
    """An existing computer YAML file that parses to a complete computer spec.

    Binary files, YAML syntax errors and missing fields are refused here with the file
    and line, instead of a traceback from the set-up step that reads it.
    """

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import yaml

        from workflows.setup.codes import COMPUTER_FIELDS, SetupSpecError, load_spec

        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        fix = "start from profiles/computer-localhost.yaml"
        try:
            load_spec(path, COMPUTER_FIELDS)
        except UnicodeDecodeError:
            self.fail(f"{path} is not a text (UTF-8) file: give a computer YAML; {fix}", param, ctx)
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            line = f" at line {where.line + 1}" if where is not None else ""
            problem = getattr(error, "problem", None) or type(error).__name__
            self.fail(f"{path} is not valid YAML ({problem}{line}): fix it, or {fix}", param, ctx)
        except SetupSpecError as error:
            self.fail(str(error), param, ctx)
        return path


# -- options shared by several commands (one definition each) ---------------------------

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
PROTOCOLS = click.Choice(["fast", "balanced", "stringent"])


def stacked(*options: Decorator) -> Decorator:
    """One decorator applying ``options`` in the order they are listed (as in ``--help``)."""

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def materials_options(chalcogenide_help: str = "MX formula.") -> Decorator:
    """``--perovskite`` / ``--chalcogenide``, the paper's CsPbBr3/CdS pair by default."""
    return stacked(
        click.option("--perovskite", default="CsPbBr3", show_default=True, help="CsPbX3 formula."),
        click.option("--chalcogenide", default="CdS", show_default=True, help=chalcogenide_help),
    )


def protocol_option(text: str | None = None) -> Decorator:
    """``--protocol fast|balanced|stringent`` (default fast), with ``text`` as its help."""
    return click.option("--protocol", type=PROTOCOLS, default="fast", show_default=True, help=text)


def computer_option(text: str = "Computer whose pw/projwfc/pp codes run the jobs.") -> Decorator:
    """``--computer LABEL`` of a registered computer (default localhost)."""
    return click.option(
        "--computer", "computer_label", default="localhost", show_default=True, help=text
    )


def max_strain_option(
    text: str = "Largest in-plane strain of either side (%) the interface may take "
    "[default: the protocol's].",
) -> Decorator:
    """``--max-strain %``: the strain bound of the interface model(s), over the default."""
    return click.option("--max-strain", type=STRAIN_PERCENT, default=None, metavar="%", help=text)


MAX_RANKS = 1024
"""Bound of ``--ranks``: the ranks of one job run on one machine (``num_machines`` 1), and
the largest nodes have a few hundred cores (2 × 128-core CPUs, 512 with hyper-threads), so
more is a typo (``1e20`` once passed ``--dry-run`` as "inputs valid")."""


def ranks_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--ranks N``: MPI ranks of every job (1 to :data:`MAX_RANKS`), over the protocol's."""
    return click.option(
        "--ranks",
        type=click.IntRange(1, MAX_RANKS),
        default=None,
        help="MPI ranks per job (default: the computer's).",
    )(function)


def new_profile_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--profile NAME`` of the commands that may create it (``setup``, ``demo``)."""
    return click.option(
        "--profile",
        "profile_name",
        default=None,
        help="AiiDA profile to create or reuse [default: -p/--profile, else janus].",
    )(function)


COMPUTER_ALIAS_NOTICE = (
    "Warning: --computer FILE is deprecated in `setup`/`slurm-up`: use --computer-config FILE "
    "(--computer is a computer label in run, submit, alignment and demo)"
)


def _alias_notice(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Print :data:`COMPUTER_ALIAS_NOTICE` (to stderr) when the old spelling is used."""
    if value is not None:
        click.echo(COMPUTER_ALIAS_NOTICE, err=True)
    return value


def computer_yaml_option(default: Path, text: str) -> Decorator:
    """``--computer-config FILE``: a computer YAML, checked up front (:class:`ComputerYaml`).

    ``--computer FILE``, its name before, stays as a hidden alias that prints a one-line
    deprecation notice: elsewhere ``--computer`` names a stored computer by label, and one
    name should mean one thing. Both given is refused."""

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def command(*args: Any, **kwargs: Any) -> Any:
            alias = kwargs.pop("computer_yaml_alias")
            if alias is not None:
                source = click.get_current_context().get_parameter_source("computer_yaml")
                if source is click.core.ParameterSource.COMMANDLINE:
                    raise click.UsageError(
                        "--computer-config and --computer (its deprecated name) both give the "
                        "computer YAML: give --computer-config only"
                    )
                kwargs["computer_yaml"] = alias
            return function(*args, **kwargs)

        alias = click.option(
            "--computer",
            "computer_yaml_alias",
            type=ComputerYaml(),
            default=None,
            hidden=True,
            callback=_alias_notice,
        )
        config = click.option(
            "--computer-config",
            "computer_yaml",
            type=ComputerYaml(),
            default=default,
            show_default=True,
            metavar="FILE",
            help=text,
        )
        return config(alias(command))

    return apply


def output_folder_option(default: Path, text: str) -> Decorator:
    """``--output/-o FOLDER`` a command writes into (:class:`OutputPath`)."""
    return click.option(
        "--output",
        "-o",
        type=OutputPath("folder"),
        default=default,
        show_default=True,
        help=text,
    )
