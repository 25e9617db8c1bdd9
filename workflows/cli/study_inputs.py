"""``-X/--code``, ``-F/--pseudo-family`` and ``--structure`` of ``run``/``submit``, as in verdi.

Codes and families follow aiida-core's and aiida-quantumespresso's CLI: ``-X/--code`` takes a
code by PK, UUID or label (``pw-7.2@cluster``), its role (pw, projwfc, pp) read from the
code's own calculation plugin, so ``-X`` repeats for several codes; ``-F/--pseudo-family``
takes an installed aiida-pseudo family with recommended cutoffs (e.g. from ``aiida-pseudo
install sssp``). The protocols pick a *flavour* per step, PAW where accuracy counts and NC
where the method needs orthonormal plane-wave overlaps (NA snapshots) or cheap MD, so
``-F LABEL`` replaces both and ``-F paw=LABEL`` / ``-F nc=LABEL`` one of them.
``--structure`` reads an interface (as ``aiida-janus build`` writes it) with its site labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workflows.cli.library_words import RUN_OPTIONS, cli_words
from workflows.cli.params import Decorator, stacked
from workflows.inputs.cutoff_floors import pair_elements

if TYPE_CHECKING:
    from aiida import orm
    from ase import Atoms

CODE_ROLES = {
    "quantumespresso.pw": "pw",
    "quantumespresso.projwfc": "projwfc",
    "quantumespresso.pp": "pp",
}
FLAVOURS = ("paw", "nc")
NORM_CONSERVING = {"NC", "SL"}
"""UPF ``pseudo_type`` values of norm-conserving pseudopotentials (SL: semilocal NC)."""


class CodeParam(click.ParamType):
    """A pw.x, projwfc.x or pp.x code by PK, UUID or label (``label@computer``), loaded from
    the chosen profile; returns ``(role, code)``."""

    name = "code"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        from aiida.common.exceptions import MultipleObjectsError, NotExistent
        from aiida.orm import load_code

        from workflows.cli.profiles import use_profile

        profile = use_profile()
        text = str(value).strip()
        try:
            code = load_code(int(text) if text.isdigit() and len(text) < 19 else text)
        except (NotExistent, ValueError):
            self.fail(
                f"no code with PK, UUID or label {text} in profile {profile!r}: "
                "list them with `verdi code list -a`",
                param,
                ctx,
            )
        except MultipleObjectsError:
            self.fail(f"{text!r} matches several codes: give label@computer or the PK", param, ctx)
        plugin = code.default_calc_job_plugin
        if plugin not in CODE_ROLES:
            self.fail(
                f"code {code.full_label} runs {plugin}, not one of {sorted(CODE_ROLES)}: "
                "give a pw.x, projwfc.x or pp.x code",
                param,
                ctx,
            )
        return CODE_ROLES[plugin], code


class FamilyParam(click.ParamType):
    """``LABEL``, ``paw=LABEL`` or ``nc=LABEL``: an installed aiida-pseudo family with
    recommended cutoffs (UPF files); returns ``(flavour or None, family label)``."""

    name = "[paw=|nc=]family"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        from aiida.common.exceptions import NotExistent
        from aiida.orm import load_group
        from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

        from workflows.cli.profiles import use_profile

        profile = use_profile()
        flavour, sep, label = str(value).partition("=")
        if not sep:
            flavour, label = "", flavour
        if flavour and flavour not in FLAVOURS:
            self.fail(f"{flavour}= is no flavour: give LABEL, paw=LABEL or nc=LABEL", param, ctx)
        try:
            family = load_group(label)
        except NotExistent:
            self.fail(
                f"no pseudopotential family {label!r} in profile {profile!r}: list them with "
                "`aiida-pseudo list`, install one with `aiida-pseudo install sssp`",
                param,
                ctx,
            )
        if not isinstance(family, CutoffsPseudoPotentialFamily) or family.pseudo_type != (
            "pseudo.upf"
        ):
            self.fail(
                f"{label} is not a family of UPF pseudopotentials with recommended cutoffs: "
                "install one with aiida-pseudo (e.g. `aiida-pseudo install sssp`)",
                param,
                ctx,
            )
        return flavour or None, family.label


def code_family_options() -> Decorator:
    """-X/--code and -F/--pseudo-family: the codes and families a user brings instead of
    the computer's and the protocol's (``run``, ``submit``, ``alignment``)."""
    return stacked(
        click.option(
            "-X",
            "--code",
            "codes",
            multiple=True,
            type=CodeParam(),
            metavar="CODE",
            help="A pw.x, projwfc.x or pp.x code by PK, UUID or label (e.g. pw-7.2@cluster) "
            "instead of --computer's; repeat for several.",
        ),
        click.option(
            "-F",
            "--pseudo-family",
            "families",
            multiple=True,
            type=FamilyParam(),
            metavar="[paw=|nc=]FAMILY",
            help="aiida-pseudo family (label) for every step (FAMILY), or only for the steps "
            "the protocol runs with PAW (paw=FAMILY) or NC (nc=FAMILY; the NA snapshots "
            "need norm-conserving pseudopotentials).",
        ),
    )


def structure_option() -> Decorator:
    """``--structure FILE``: an interface written by ``aiida-janus build`` (``run``/``submit``)."""
    return click.option(
        "--structure",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help="An interface with its site labels (the extxyz or CIF `aiida-janus build` "
        "writes) instead of building one: skips the bulk and interface steps.",
    )


def chosen_codes(given: tuple[tuple[str, orm.AbstractCode], ...]) -> dict[str, orm.AbstractCode]:
    """``-X`` codes by role; two codes for one role are refused naming both."""
    codes: dict[str, orm.AbstractCode] = {}
    for role, code in given:
        if role in codes and codes[role].pk != code.pk:
            raise click.UsageError(
                f"-X/--code gives two {role} codes ({codes[role].full_label}, {code.full_label}):"
                " give one"
            )
        codes[role] = code
    return codes


def chosen_families(given: tuple[tuple[str | None, str], ...]) -> dict[str, str]:
    """``-F`` choices as family label per flavour; a flavour given twice is refused."""
    labels: dict[str, str] = {}
    for flavour, label in given:
        for name in (flavour,) if flavour else FLAVOURS:
            if labels.get(name, label) != label:
                raise click.UsageError(
                    f"-F/--pseudo-family gives two {name} families ({labels[name]}, {label}):"
                    " give one per flavour"
                )
            labels[name] = label
    return labels


def upf_type(content: str) -> str:
    """``pseudo_type`` of a UPF file (v2 attribute, or the v1 header's ``US|NC|PAW`` line)."""
    found = re.search(r'pseudo_type\s*=\s*"\s*(\w+)', content)
    if found is None:
        found = re.search(r"^\s*(\w+)\s+US\|NC\|PAW", content, flags=re.MULTILINE)
    return found.group(1).upper() if found else "unknown"


def check_nc_family(label: str, elements: set[str]) -> None:
    """The NA snapshots' family must be norm-conserving for ``elements`` (their overlaps are
    taken as orthonormal, DESIGN.md); refuse naming the offending elements otherwise."""
    from aiida.orm import load_group

    family = load_group(label)
    kinds = {
        element: upf_type(family.get_pseudo(element).get_content())
        for element in sorted(elements)
        if element in family.elements
    }
    other = {element: kind for element, kind in kinds.items() if kind not in NORM_CONSERVING}
    if other:
        raise click.UsageError(
            f"-F/--pseudo-family {label}: the NA snapshots need norm-conserving "
            f"pseudopotentials and it holds {other}: give -F nc=<an NC family>, or --skip na"
        )


def read_structure(path: Path) -> Atoms:
    """An interface from ``path`` with its ``domain``/``layer``/``fixed`` site labels, as
    ``aiida-janus build`` writes them (extxyz arrays or CIF label loops); one line naming
    what is missing otherwise."""
    from ase.io import read

    from heterostructures.structure.errors import StructureInputError
    from heterostructures.structure.report import LABELS, read_interface

    try:
        read_back = read(path, index=0)
    except Exception as error:  # ase raises many types for a file it cannot parse
        raise click.BadParameter(
            f"{path} is not a structure file ase can read (cif, extxyz, POSCAR, …): {error}",
            param_hint="'--structure'",
        ) from error
    atoms = read_back[0] if isinstance(read_back, list) else read_back
    missing = [name for name in LABELS if name not in atoms.arrays]
    if missing and path.suffix.lower() == ".cif":
        try:
            atoms = read_interface(path)
            missing = []
        except StructureInputError:
            pass
    if missing:
        raise click.BadParameter(
            f"{path} has no interface site labels {missing} (per-site domain, layer, fixed): "
            "write the model with `aiida-janus build -o DIR` and give DIR/interface.extxyz",
            param_hint="'--structure'",
        )
    return atoms


def check_structure_pair(atoms: Atoms, perovskite: str, chalcogenide: str, path: Path) -> None:
    """The file's elements must be those of ``--perovskite`` and ``--chalcogenide``."""
    wanted = pair_elements(perovskite, chalcogenide)
    held = set(atoms.get_chemical_symbols())
    if held != wanted:
        raise click.UsageError(
            f"--structure {path} holds {', '.join(sorted(held))}, but --perovskite "
            f"{perovskite} --chalcogenide {chalcogenide} have {', '.join(sorted(wanted))}: "
            "give the pair the file holds"
        )


def check_structure_planes(atoms: Atoms, path: Path) -> None:
    """Each domain of the file needs two atomic planes: the electronic step's potential
    line-up averages over a domain's stacking period, and refuses a one-plane domain only
    after its SCF, NSCF, projwfc.x and pp.x have run (``lineup_windows``)."""
    from heterostructures.electronic.lineup_windows import PLANES_TO_REBUILD, one_plane_domains

    thin = one_plane_domains(atoms)
    if thin:
        domains = " and ".join(f"{domain!r}" for domain in thin)
        fixes = " ".join(f"--{domain}-planes {PLANES_TO_REBUILD[domain]}" for domain in thin)
        raise click.BadParameter(
            f"{path}: {domains} {'has' if len(thin) == 1 else 'have'} one atomic plane, and"
            " the potential line-up needs two per domain: rebuild it with"
            f" `aiida-janus build {fixes}` (or more planes)",
            param_hint="'--structure'",
        )


@dataclass(frozen=True)
class Study:
    """A ready ``janus.pipeline`` builder and the lines ``--dry-run`` prints about it."""

    builder: Any
    lines: tuple[str, ...]


def pipeline_builder(
    codes: dict[str, Any],
    pair: tuple[str, str, str],
    structure_file: Path | None,
    overrides: dict[str, Any] | None,
    options: dict[str, Any] | None,
) -> tuple[Any, str | None]:
    """The pipeline's builder for (perovskite, chalcogenide, protocol), on the interface of
    ``structure_file`` when given; and the ``--dry-run`` line describing that structure."""
    from aiida import orm

    from workflows.inputs.given_structure import pipeline_builder_on_structure
    from workflows.inputs.pw_builders import PseudoFamilyError
    from workflows.inputs.site_labels import labels_from_atoms
    from workflows.workchains.pipeline import PipelineWorkChain

    perovskite, chalcogenide, protocol = pair
    try:
        if structure_file is None:
            builder = PipelineWorkChain.get_builder_from_protocol(
                codes, perovskite, chalcogenide, protocol, overrides=overrides, options=options
            )
            return builder, None
        atoms = read_structure(structure_file)
        check_structure_pair(atoms, perovskite, chalcogenide, structure_file)
        check_structure_planes(atoms, structure_file)
        structure = orm.StructureData(ase=atoms)
        builder = pipeline_builder_on_structure(
            codes, *pair, structure, orm.Dict(labels_from_atoms(atoms)), overrides, options
        )
    except ValueError as exception:  # StructureInputError, PseudoFamilyError, LabelError, …
        hint = " (-F/--pseudo-family LABEL)" if isinstance(exception, PseudoFamilyError) else ""
        message = cli_words(str(exception), RUN_OPTIONS)
        raise click.ClickException(f"{message}{hint}") from exception
    line = (
        f"structure: {structure_file} ({len(atoms)} atoms, "
        f"{atoms.get_chemical_formula(mode='metal')}): bulk and interface steps not run"
    )
    return builder, line


def dry_run_lines(
    codes: dict[str, Any], families: dict[str, str], structure_line: str | None
) -> tuple[str, ...]:
    """What ``--dry-run`` says of the codes, the pseudopotential families and the structure."""
    from workflows.setup.pseudos import FAMILY_LABELS

    shown = ", ".join(f"{role} = {code.full_label} <{code.pk}>" for role, code in codes.items())
    chosen = ", ".join(
        f"{flavour} = {families.get(flavour, label)}"
        + (" (-F)" if flavour in families else " (protocol)")
        for flavour, label in FAMILY_LABELS.items()
    )
    lines = [f"codes: {shown}", f"pseudopotential families: {chosen}"]
    return (*lines, structure_line) if structure_line else tuple(lines)
