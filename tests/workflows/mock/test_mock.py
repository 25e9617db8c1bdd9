"""Mock QE codes: hashing, record → replay round trips, loud misses, corrupt stores.

A fake ``pw.x`` (a shell script put first on PATH) exercises the recording machinery
without QE; the ``real_qe`` tests record and replay a real 2-atom zinc-blende CdS pw.x
run (NC pslibrary pseudos from ld1.x, 25/100 Ry, 2×2×2 k: ~3 s), directly and through
aiida-quantumespresso's PwCalculation.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import require_executable
from workflows.mock.codes import mock_program
from workflows.mock.executable import EXIT_MISSING_RECORDING, EXIT_STORE_ERROR
from workflows.mock.hashing import hash_inputs
from workflows.mock.store import RecordingStore

if TYPE_CHECKING:
    from aiida.orm import CalcJobNode, InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

MockCodeFactory = Callable[..., "InstalledCode"]
FamilyFactory = Callable[[str], "CutoffsPseudoPotentialFamily"]

PSEUDO_INPUTS = Path(__file__).resolve().parents[3] / "profiles" / "pseudos" / "nc"
FAKE_PW = """#!/bin/sh
# Stands in for pw.x: writes an XML whose bytes change every run, a wavefunction and a
# pseudo copy, like the real code; FAKE_EXIT sets its exit status, FAKE_SIGNAL kills it,
# FAKE_CUT leaves out QE's closing 'JOB DONE.'.
mkdir -p out/aiida.save
echo "     Program PWSCF v.6.7MaX starts on fake"
grep ecutwfc "$2"
grep ecutwfc "$2" > out/aiida.save/data-file-schema.xml
echo "pid $$" >> out/aiida.save/data-file-schema.xml
echo wavefunction > out/aiida.save/wfc1.dat
cp pseudo/Si.upf out/aiida.save/
echo run >> "$(dirname "$0")/runs.log"
echo "fake warning" >&2
if [ -n "$FAKE_STDERR" ]; then echo "$FAKE_STDERR" >&2; fi
if [ -n "$FAKE_SIGNAL" ]; then kill -"$FAKE_SIGNAL" $$; fi
if [ -z "$FAKE_CUT" ]; then echo "   JOB DONE."; fi
exit "${FAKE_EXIT:-0}"
"""
FAKE_UPF = (
    '<UPF version="2.0.1">\n  Generation date: {date}\n  <PP_HEADER z_valence="{z}"/>\n</UPF>\n'
)


def write_si_input(workdir: Path, ecutwfc: float = 20.0, outdir: str = "./out/") -> None:
    """A pw.x input (fake Si) with its pseudo folder, the way AiiDA lays it out."""
    (workdir / "pseudo").mkdir(parents=True, exist_ok=True)
    (workdir / "pseudo" / "Si.upf").write_text(FAKE_UPF.format(date="26Nov2026", z=4.0))
    (workdir / "aiida.in").write_text(
        f"&CONTROL\n  calculation = 'scf'\n  outdir = '{outdir}'\n  prefix = 'aiida'\n"
        f"  pseudo_dir = './pseudo/'\n/\n&SYSTEM\n  ecutwfc = {ecutwfc}\n  ibrav = 2\n"
        "  celldm(1) = 10.2\n  nat = 2\n  ntyp = 1\n/\n&ELECTRONS\n/\nATOMIC_SPECIES\n"
        "Si 28.086 Si.upf\nATOMIC_POSITIONS crystal\nSi 0.00 0.00 0.00\n"
        "Si 0.25 0.25 0.25\nK_POINTS gamma\n"
    )


def run_mock(
    workdir: Path, store: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``janus-mock-code pw.x -in aiida.in > aiida.out`` as AiiDA's job script does."""
    command = [*mock_program(), "--store", str(store), "pw.x", "-in", "aiida.in"]
    environment = {k: v for k, v in os.environ.items() if k != "JANUS_MOCK_RECORD"}
    with (workdir / "aiida.out").open("w") as stdout:
        return subprocess.run(
            command,
            cwd=workdir,
            stdout=stdout,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**environment, **(env or {})},
            text=True,
            check=False,
        )


@pytest.fixture
def fake_pw_path(tmp_path: Path) -> str:
    """A PATH whose ``pw.x`` is the fake above."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    (bin_dir / "pw.x").write_text(FAKE_PW)
    (bin_dir / "pw.x").chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def fake_runs(tmp_path: Path) -> int:
    """How many times the fake pw.x ran."""
    return len((tmp_path / "fake-bin" / "runs.log").read_text().splitlines())


def record_fake(tmp_path: Path, fake_pw_path: str, fake_exit: int = 0) -> Path:
    """Record one fake run into ``tmp_path/store``; return the store."""
    store, workdir = tmp_path / "store", tmp_path / "recorded"
    write_si_input(workdir)
    env = {"JANUS_MOCK_RECORD": "1", "PATH": fake_pw_path, "FAKE_EXIT": str(fake_exit)}
    assert run_mock(workdir, store, env).returncode == fake_exit
    return store


def _digest(workdir: Path) -> str:
    text = (workdir / "aiida.in").read_text()
    return hash_inputs("pw.x", text, workdir, [workdir / "aiida.in", workdir / "aiida.out"]).digest


@pytest.mark.parametrize(
    ("edit", "same_hash"),
    [
        (lambda d: write_si_input(d, outdir="/scratch/elsewhere/out/"), True),
        (
            lambda d: (d / "pseudo" / "Si.upf").write_text(FAKE_UPF.format(date="1Jan2020", z=4.0)),
            True,
        ),
        (lambda d: (d / "out" / "aiida.save" / "wfc1.dat").write_text("any"), True),
        (lambda d: write_si_input(d, ecutwfc=20.5), False),
        (
            lambda d: (d / "pseudo" / "Si.upf").write_text(
                FAKE_UPF.format(date="26Nov2026", z=3.0)
            ),
            False,
        ),
        (lambda d: (d / "out" / "aiida.save" / "data-file-schema.xml").write_text("x"), False),
        (lambda d: (d / "out" / "aiida.save" / "charge-density.dat").write_text("x"), True),
    ],
    ids=[
        "outdir",
        "upf-date",
        "wavefunction",
        "ecutwfc",
        "pseudo-content",
        "parent-file",
        "parent-density",
    ],
)
def test_hash_ignores_volatile_paths_but_not_physics(
    tmp_path: Path, edit: Callable[[Path], object], same_hash: bool
) -> None:
    write_si_input(tmp_path)
    (tmp_path / "out" / "aiida.save").mkdir(parents=True)
    before = _digest(tmp_path)
    edit(tmp_path)
    assert (_digest(tmp_path) == before) is same_hash


def test_parent_file_bytes_are_not_hashed(tmp_path: Path) -> None:
    write_si_input(tmp_path)
    parent = tmp_path / "out" / "aiida.save" / "data-file-schema.xml"
    parent.parent.mkdir(parents=True)
    parent.write_bytes(b"\x00" * 8)
    before = _digest(tmp_path)
    parent.write_bytes(b"\x01" * 16)
    assert _digest(tmp_path) == before


@pytest.mark.parametrize("fake_exit", [0, 2])
def test_record_then_replay_round_trips(tmp_path: Path, fake_pw_path: str, fake_exit: int) -> None:
    store = record_fake(tmp_path, fake_pw_path, fake_exit)
    recorded, replayed = tmp_path / "recorded", tmp_path / "replayed"
    write_si_input(replayed)
    result = run_mock(replayed, store)
    assert result.returncode == fake_exit
    assert result.stderr == "fake warning\n"
    assert fake_runs(tmp_path) == 1
    for name in ("aiida.out", "out/aiida.save/data-file-schema.xml", "out/aiida.save/Si.upf"):
        assert (replayed / name).read_bytes() == (recorded / name).read_bytes(), name
    assert not (replayed / "out" / "aiida.save" / "wfc1.dat").exists()
    (metadata,) = RecordingStore(store).metadata_for_code("pw.x")
    assert metadata.pseudo_copies == (("out/aiida.save/Si.upf", "Si.upf"),)
    assert metadata.qe_version == "6.7MaX"
    assert metadata.exit_status == fake_exit


def test_missing_recording_names_hash_diff_and_command(tmp_path: Path, fake_pw_path: str) -> None:
    store = record_fake(tmp_path, fake_pw_path)
    workdir = tmp_path / "changed"
    write_si_input(workdir, ecutwfc=21.0)
    result = run_mock(workdir, store, {"PATH": fake_pw_path})
    assert result.returncode == EXIT_MISSING_RECORDING
    stdout = (workdir / "aiida.out").read_text()
    for message in (stdout, result.stderr):
        assert f"NO RECORDING of pw.x for input hash {_digest(workdir)}" in message
        assert "-  ecutwfc = 20.0\n+  ecutwfc = 21.0" in message
        assert f"cd {workdir} && JANUS_MOCK_RECORD=1 " in message
        assert f"--store {store} pw.x -in aiida.in > aiida.out" in message
    assert fake_runs(tmp_path) == 1
    assert not (workdir / "out").exists()


def _truncate_archive(store: Path) -> None:
    (archive,) = (store / "pw.x").glob("*.tar.xz")
    archive.write_bytes(archive.read_bytes()[:100])


def _drop_metadata(store: Path) -> None:
    (metadata,) = (store / "pw.x").glob("*.json")
    metadata.unlink()


def _other_digest(store: Path) -> None:
    (metadata,) = (store / "pw.x").glob("*.json")
    metadata.write_text(metadata.read_text().replace('"digest": "', '"digest": "0'))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda store: store.rename(store.with_name("moved")), "does not exist"),
        (_truncate_archive, "is unreadable"),
        (_drop_metadata, "is incomplete"),
        (_other_digest, "is for digest 0"),
    ],
    ids=["missing-store", "truncated-archive", "no-metadata", "wrong-digest"],
)
def test_corrupt_or_missing_store_fails_clearly(
    tmp_path: Path, fake_pw_path: str, damage: Callable[[Path], object], expected: str
) -> None:
    store = record_fake(tmp_path, fake_pw_path)
    damage(store)
    workdir = tmp_path / "replayed"
    write_si_input(workdir)
    result = run_mock(workdir, store)
    assert result.returncode == EXIT_STORE_ERROR
    assert expected in result.stderr
    assert expected in (workdir / "aiida.out").read_text()


def test_secondary_mpi_rank_does_nothing(tmp_path: Path) -> None:
    write_si_input(tmp_path)
    result = run_mock(tmp_path, tmp_path / "no-store", {"OMPI_COMM_WORLD_RANK": "1"})
    assert (result.returncode, result.stderr, (tmp_path / "aiida.out").read_text()) == (0, "", "")


CDS_ECUTRHO_RY = 100.0


def cds_pw_inputs(
    code: InstalledCode, family: CutoffsPseudoPotentialFamily, ecutwfc_ry: float = 25.0
) -> dict[str, Any]:
    """PwCalculation inputs for 2-atom zinc-blende CdS (a = 5.83 Å), NC, 2×2×2 k.

    Cutoffs are below the family's converged 60 Ry on purpose: the run only has to be a
    real, seconds-long pw.x run for the mock to record.
    """
    from aiida import orm
    from ase.build import bulk

    structure = orm.StructureData(ase=bulk("CdS", "zincblende", a=5.83))
    kpoints = orm.KpointsData()
    kpoints.set_kpoints_mesh([2, 2, 2])
    parameters = {
        "CONTROL": {"calculation": "scf"},
        "SYSTEM": {"ecutwfc": ecutwfc_ry, "ecutrho": CDS_ECUTRHO_RY},
        "ELECTRONS": {"conv_thr": 1.0e-8},
    }
    return {
        "code": code,
        "structure": structure,
        "kpoints": kpoints,
        "parameters": orm.Dict(parameters),
        "pseudos": family.get_pseudos(structure=structure),
        "metadata": {"options": {"resources": {"num_machines": 1}, "max_wallclock_seconds": 300}},
    }


def run_pw(inputs: dict[str, Any]) -> CalcJobNode:
    """Run a PwCalculation to completion in this process; return its node."""
    from aiida.engine import run_get_node
    from aiida.orm import CalcJobNode
    from aiida_quantumespresso.calculations.pw import PwCalculation

    _, node = run_get_node(PwCalculation, inputs)
    assert isinstance(node, CalcJobNode)
    return node


def recorded_total_energy_ry(stdout: str) -> float:
    """The converged total energy (Ry) from the ``!    total energy`` line of pw.x stdout."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("!")]
    return float(line.split("=")[1].split()[0])


def test_pw_calculation_replays_committed_recording(
    mock_code: MockCodeFactory, pseudo_family: FamilyFactory
) -> None:
    """The committed CdS recording replays through PwCalculation into the recorded physics.

    Under ``scripts/record_fixtures.sh`` this test is what (re-)records that fixture.
    """
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert node.is_finished_ok, node.exit_message
    stdout = node.outputs.retrieved.base.repository.get_object_content("aiida.out")
    parameters = node.outputs.output_parameters.get_dict()
    from aiida_quantumespresso.parsers.parse_raw.pw import CONSTANTS  # the parser's Ry → eV

    energy_ev = recorded_total_energy_ry(stdout) * CONSTANTS.ry_to_ev
    assert parameters["energy"] == pytest.approx(energy_ev, abs=1e-5)
    assert parameters["number_of_electrons"] == 18.0  # NC: Cd 4d10 5s2, S 3s2 3p4
    assert "6.7" in parameters["creator_version"]


def test_changed_parameter_misses_recording_and_calcjob_fails(
    mock_code: MockCodeFactory, pseudo_family: FamilyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JANUS_MOCK_RECORD", raising=False)
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc"), ecutwfc_ry=26.0))
    assert node.is_failed
    retrieved = node.outputs.retrieved.base.repository
    for name in ("aiida.out", "_scheduler-stderr.txt"):
        message = retrieved.get_object_content(name)
        assert "NO RECORDING of pw.x for input hash" in message
        assert "-  ecutwfc =   2.5000000000d+01\n+  ecutwfc =   2.6000000000d+01" in message
        assert "JANUS_MOCK_RECORD=1" in message


@pytest.mark.real_qe
def test_real_pw_recorded_then_replayed_gives_identical_parsed_outputs(
    mock_code: MockCodeFactory,
    pseudo_family: FamilyFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    require_executable("pw.x")
    code, family = mock_code("pw.x", store=tmp_path / "store"), pseudo_family("nc")
    monkeypatch.setenv("JANUS_MOCK_RECORD", "1")
    real = run_pw(cds_pw_inputs(code, family))
    monkeypatch.delenv("JANUS_MOCK_RECORD")
    replayed = run_pw(cds_pw_inputs(code, family))
    assert real.is_finished_ok, real.exit_message
    assert replayed.is_finished_ok, replayed.exit_message
    assert (
        replayed.outputs.output_parameters.get_dict() == real.outputs.output_parameters.get_dict()
    )
    bands = [node.outputs.output_band.get_bands().tolist() for node in (real, replayed)]
    assert bands[0] == bands[1]
    files = [node.outputs.retrieved.base.repository for node in (real, replayed)]
    names = files[0].list_object_names()
    assert names == files[1].list_object_names()
    assert "janus-mock-code: recorded" in files[0].get_object_content("_scheduler-stderr.txt")
    for name in (name for name in names if name != "_scheduler-stderr.txt"):
        assert files[0].get_object_content(name, "rb") == files[1].get_object_content(name, "rb")


def test_post_processing_hash_sees_the_parent_system(tmp_path: Path) -> None:
    """pp.x inputs name no structure: two parents with different geometry hash apart."""
    import shutil

    fixtures = Path(__file__).parents[2] / "fixtures" / "qe67_wfc_cds_nc_gamma"
    pp_input = "&INPUTPP\n  outdir = './out/'\n  prefix = 'cds'\n  plot_num = 11\n/\n"
    digests = {}
    for snapshot in ("snapshot_0", "snapshot_1"):
        workdir = tmp_path / snapshot
        (workdir / "out" / "cds.save").mkdir(parents=True)
        source = fixtures / snapshot / "cds.save" / "data-file-schema.xml"
        shutil.copy(source, workdir / "out" / "cds.save" / "data-file-schema.xml")
        digests[snapshot] = hash_inputs("pp.x", pp_input, workdir).digest
        assert hash_inputs("pw.x", pp_input, workdir).parent_system == ""
    assert digests["snapshot_0"] != digests["snapshot_1"]


@pytest.mark.parametrize(
    ("setting", "in_batch", "kept"),
    [("0", True, False), ("1", False, True), ("batch", False, False), ("batch", True, True)],
)
def test_wavefunctions_kept_only_where_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, in_batch: bool, kept: bool
) -> None:
    """``JANUS_MOCK_KEEP_WAVEFUNCTIONS=batch`` keeps ``wfc*.dat`` in a snapshot-batch job
    folder only; the driver name the mock looks for is the CalcJob's own (reference: the
    ``janus.snapshot_batch`` module's constant)."""
    from workflows.calculations.snapshot_batch_files import DRIVER_FILE
    from workflows.mock.record import BATCH_DRIVER_FILE, keeps_wavefunctions

    assert BATCH_DRIVER_FILE == DRIVER_FILE
    if in_batch:
        (tmp_path / DRIVER_FILE).write_text("#!/bin/bash\n")
    monkeypatch.setenv("JANUS_MOCK_KEEP_WAVEFUNCTIONS", setting)
    assert keeps_wavefunctions(tmp_path) is kept


@pytest.mark.parametrize(("in_batch", "kept"), [(False, False), (True, True)])
def test_skipped_density_is_kept_in_batch_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_batch: bool, kept: bool
) -> None:
    """``JANUS_MOCK_SKIP_CHARGE_DENSITY=1`` leaves the density out of a recording, except in
    a snapshot-batch folder: its driver copies each frame's ``charge-density.*`` to a
    checkpoint and fails without it (reference: the driver text the CalcJob writes)."""
    from workflows.calculations.snapshot_batch_files import DRIVER_FILE, driver_script
    from workflows.mock.invocation import Invocation
    from workflows.mock.record import file_state, written_files

    assert '"$SAVE"/charge-density.*' in driver_script([1], ["pw.x"], "python3")
    if in_batch:
        (tmp_path / DRIVER_FILE).write_text("#!/bin/bash\n")
    invocation = Invocation("pw.x", ("-in", "aiida.in"), tmp_path, "", False, ())
    before = file_state(tmp_path)
    save = tmp_path / "out" / "aiida.save"
    save.mkdir(parents=True)
    (save / "charge-density.dat").write_bytes(b"rho")
    (save / "data-file-schema.xml").write_text("<qes/>")
    monkeypatch.setenv("JANUS_MOCK_SKIP_CHARGE_DENSITY", "1")
    written = written_files(invocation, before)
    assert "out/aiida.save/data-file-schema.xml" in written
    assert ("out/aiida.save/charge-density.dat" in written) is kept


def test_signed_zeros_hash_like_unsigned_ones(tmp_path: Path) -> None:
    """Two inputs that differ only in the sign of a zero (rounding noise of the structure
    code, seen on 2026-12-06 between two venvs) hash alike; a real sign does not.
    Reference: the two fixed-width lines Python's ``{:18.10f}`` writes for -0.0 and 0.0."""
    from workflows.mock.hashing import unsigned_zeros

    negative = "I" + "".join(f"{x:18.10f}" for x in (-0.0, -0.0, -3.1046877050))
    positive = "I" + "".join(f"{x:18.10f}" for x in (0.0, 0.0, -3.1046877050))
    assert negative != positive
    assert unsigned_zeros(negative) == positive
    assert unsigned_zeros("x = -0.0001 -1.0d-02 a-0.0") == "x = -0.0001 -1.0d-02 a-0.0"
    card = "&CONTROL\n/\nATOMIC_POSITIONS angstrom\n{}\n"
    hashes = [
        hash_inputs("pw.x", card.format(line), tmp_path).digest
        for line in (negative, positive, "I" + "".join(f"{x:18.10f}" for x in (0, 0, 3.104687705)))
    ]
    assert hashes[0] == hashes[1] != hashes[2]


def test_every_stored_recording_is_keyed_by_its_normalised_material() -> None:
    """Each committed recording's stored material is already in the current normal form
    and its sha256 names the files (reference: hashlib over the stored text), so no
    recording can miss because the normalisation changed after it was made
    (``scripts/rekey_mock_store.py`` re-keys them)."""
    import hashlib
    import json

    from workflows.mock.codes import DEFAULT_STORE
    from workflows.mock.hashing import renormalised_material

    stale = []
    for path in sorted(DEFAULT_STORE.glob("*/*.json")):
        data = json.loads(path.read_text())
        material = data["material"]
        renormalised = renormalised_material(material)
        digest = hashlib.sha256(material.encode()).hexdigest()
        if renormalised != material or digest != data["digest"] or path.stem != digest[:16]:
            stale.append(path.name)
    assert not stale, f"run scripts/rekey_mock_store.py --apply: {stale}"


def test_renormalised_material_drops_only_the_density_parent_line() -> None:
    """A material stored before the density stopped being hashed loses that one line and
    keeps every other parent (reference: the hand-written expected text)."""
    from workflows.mock.hashing import renormalised_material

    stored = (
        "# code pw.x\n&CONTROL\n/\n"
        "# parent file out/aiida.save/charge-density.dat\n"
        "# parent file out/aiida.save/data-file-schema.xml\n"
    )
    expected = "# code pw.x\n&CONTROL\n/\n# parent file out/aiida.save/data-file-schema.xml\n"
    assert renormalised_material(stored) == expected


DENSITY_ONLY = ("data-file-schema.xml", "charge-density.dat")
BOTH = (*DENSITY_ONLY, "wfc1.dat")


@pytest.mark.parametrize(
    ("code", "namelist", "parent_files", "refused"),
    [
        ("pw.x", "calculation = 'nscf'", ("data-file-schema.xml", "wfc1.dat"), True),
        ("pw.x", "calculation = 'nscf'", DENSITY_ONLY, False),
        ("pw.x", "calculation = 'scf'", ("data-file-schema.xml",), False),
        ("pw.x", "restart_mode = 'restart'", DENSITY_ONLY, True),
        ("pw.x", "restart_mode = 'restart'", BOTH, False),
        ("pw.x", "startingwfc = 'file'", DENSITY_ONLY, True),
        ("pw.x", "startingpot = 'file'", ("data-file-schema.xml", "wfc1.dat"), True),
        ("projwfc.x", "", DENSITY_ONLY, True),
        ("projwfc.x", "", BOTH, False),
        ("pp.x", "plot_num = 11", DENSITY_ONLY, False),
        ("pp.x", "plot_num = 11", ("data-file-schema.xml",), True),
        ("pp.x", "plot_num = 7", DENSITY_ONLY, True),
        ("dos.x", "", DENSITY_ONLY, False),
        ("pp.x", "plot_num = 11", (), False),
    ],
)
def test_a_child_is_not_recorded_downstream_of_a_replayed_parent(
    tmp_path: Path, code: str, namelist: str, parent_files: tuple[str, ...], refused: bool
) -> None:
    """A step is refused in ``missing`` mode when its parent's save folder lacks a file
    the step reads: the density for nscf, restarts, ``startingpot='file'``, projwfc.x,
    pp.x and dos.x; the wavefunctions for restarts, ``startingwfc='file'``, projwfc.x and
    orbital pp.x plots. Reference: QE 6.7 source (``potinit.f90``, ``io_base.f90``,
    ``postproc.f90``, ``dos.f90``; ``parent_reads`` docstring)."""
    from workflows.mock.parent_reads import incomplete_parent

    save = tmp_path / "out" / "aiida.save"
    save.mkdir(parents=True)
    for name in parent_files:
        (save / name).write_text("x")
    text = f"&CONTROL\n  {namelist}\n/\n"
    assert incomplete_parent(code, text, tmp_path) == (save if refused else None)


def test_refusal_is_one_line_and_runs_nothing(tmp_path: Path, fake_pw_path: str) -> None:
    """Through the executable: a missing-mode NSCF over a parent replayed without its
    density exits 3 with one line, runs no pw.x and stores nothing."""
    store = record_fake(tmp_path, fake_pw_path)
    workdir = tmp_path / "child"
    write_si_input(workdir)
    text = (workdir / "aiida.in").read_text().replace("'scf'", "'nscf'")
    (workdir / "aiida.in").write_text(text)
    save = workdir / "out" / "aiida.save"
    save.mkdir(parents=True)
    (save / "data-file-schema.xml").write_text("<qes/>")
    stored = sorted(store.rglob("*"))
    env = {"JANUS_MOCK_RECORD": "missing", "PATH": fake_pw_path}
    result = run_mock(workdir, store, env)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "remove the parent step's recording" in result.stderr
    assert fake_runs(tmp_path) == 1
    assert sorted(store.rglob("*")) == stored


def test_real_runs_wait_for_each_other(tmp_path: Path, fake_pw_path: str) -> None:
    """A recording starts its real code only once no other real run holds the lock
    (reference: the fake pw.x's own run log, written when it starts)."""
    import fcntl
    import time

    workdir, lock = tmp_path / "recorded", tmp_path / "record.lock"
    write_si_input(workdir)
    command = [*mock_program(), "--store", str(tmp_path / "store"), "pw.x", "-in", "aiida.in"]
    env = {**os.environ, "JANUS_MOCK_RECORD": "1", "PATH": fake_pw_path}
    env["JANUS_MOCK_RECORD_LOCK"] = str(lock)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with (workdir / "aiida.out").open("w") as stdout:
            process = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=stdout, stderr=subprocess.DEVNULL
            )
        time.sleep(2.0)
        assert process.poll() is None
        assert not (tmp_path / "fake-bin" / "runs.log").exists()
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert process.wait(timeout=60) == 0
    assert fake_runs(tmp_path) == 1


OPEN_MPI_REPORT = (
    "mpirun noticed that process rank 0 with PID 0 on node vm exited on signal 15 (Terminated)."
)
"""Open MPI 4.1.4's line for ``mpirun -np 1 sleep 30`` with ``sleep`` killed by SIGTERM
(this machine, 2026-12-06)."""
SIGTERM_REASON = "ended by signal 15 (stopped from outside, or crashed)"


@pytest.mark.parametrize(
    ("env", "status", "reason"),
    [
        ({"FAKE_SIGNAL": "TERM"}, 128 + 15, SIGTERM_REASON),
        ({"FAKE_EXIT": "1", "FAKE_CUT": "1", "FAKE_STDERR": OPEN_MPI_REPORT}, 1, SIGTERM_REASON),
        (
            {"FAKE_EXIT": "1", "FAKE_CUT": "1"},
            1,
            "exited 1 without QE's 'JOB DONE.' or error message (stopped from outside?)",
        ),
    ],
    ids=["killed", "open-mpi-report", "mpirun-killed"],
)
def test_a_run_cut_short_is_not_stored(
    tmp_path: Path, fake_pw_path: str, env: dict[str, str], status: int, reason: str
) -> None:
    """References: the Open MPI line above; ``mpirun`` itself killed by SIGTERM exited 1
    with an empty stderr and a pw.x output cut after its header (recording
    ``pw.x/5e718fee8e2ad9b7``, stored by the earlier rule and removed, 2026-12-06)."""
    store, workdir = tmp_path / "store", tmp_path / "recorded"
    write_si_input(workdir)
    result = run_mock(workdir, store, {"JANUS_MOCK_RECORD": "1", "PATH": fake_pw_path, **env})
    assert result.returncode == status
    assert result.stderr.splitlines()[-1] == (
        f"janus-mock-code: not recorded: pw.x {reason}: its output is cut short"
    )
    assert "Program PWSCF" in (workdir / "aiida.out").read_text()
    assert fake_runs(tmp_path) == 1
    assert not list(store.rglob("*.tar*"))
    assert not RecordingStore(store).metadata_for_code("pw.x")


@pytest.mark.parametrize(
    ("fake_exit", "env"),
    [
        (3, {}),
        (137, {}),
        (255, {}),
        (1, {"FAKE_CUT": "1", "FAKE_STDERR": "     Error in routine check_atoms (1):"}),
    ],
    ids=["3", "137", "255", "qe-error"],
)
def test_a_status_qe_gives_itself_is_stored(
    tmp_path: Path, fake_pw_path: str, fake_exit: int, env: dict[str, str]
) -> None:
    """QE 6.7 pw.x exits 255 by itself (``max_seconds`` reached, ``run_pwscf.f90``) and 3 for
    an unconverged relaxation, after ``JOB DONE.``; an error ends with QE's ``Error in
    routine`` banner (recordings ``pw.x/96909d74312ab0c1``, ``pw.x/dbb94f4ca2b290f9``). No
    status alone is read as a signal."""
    store, workdir = tmp_path / "store", tmp_path / "recorded"
    write_si_input(workdir)
    environment = {"JANUS_MOCK_RECORD": "1", "PATH": fake_pw_path, "FAKE_EXIT": str(fake_exit)}
    assert run_mock(workdir, store, {**environment, **env}).returncode == fake_exit
    (metadata,) = RecordingStore(store).metadata_for_code("pw.x")
    assert metadata.exit_status == fake_exit
