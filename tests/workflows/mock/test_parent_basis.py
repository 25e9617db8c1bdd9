"""A post-processing run's key hashes its parent's basis (cell, cutoffs, FFT grid), and the
stored recordings made before that were re-keyed from evidence in the store.

Why: until 2026-12-07 a pp.x or projwfc.x key hashed its input and the parent's atoms
only, so capped ``stringent``'s bulk references (dual 10) replayed the pp.x cubes of
``balanced``'s (dual 8, another FFT grid). References, per test: the values written in a
real QE 6.7 ``data-file-schema.xml`` (read by hand, below), the grid pp.x itself wrote in
each stored cube's header, the live hash for a re-keyed material, and hand-built cases
for the parent choice.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from workflows.mock.codes import DEFAULT_STORE
from workflows.mock.hashing import PARENT_BASIS_PREFIX, PARENT_SYSTEM_PREFIX, hash_inputs
from workflows.mock.rekey import (
    ParentNotFoundError,
    StoredParent,
    choose_parent,
    parent_bases,
    with_parent_basis,
)
from workflows.mock.store import Recording, RecordingMetadata, RecordingStore

REAL_XML = (
    Path(__file__).parents[2]
    / "fixtures"
    / "qe67_wfc_cds_nc_gamma"
    / "snapshot_0"
    / "cds.save"
    / "data-file-schema.xml"
)
PP_INPUT = "&INPUTPP\n  outdir = './out/'\n  prefix = 'cds'\n  plot_num = 11\n/\n"


def _parent_folder(root: Path, xml_text: str) -> Path:
    save = root / "out" / "cds.save"
    save.mkdir(parents=True)
    (save / "data-file-schema.xml").write_text(xml_text)
    return root


def test_parent_basis_is_read_from_the_output_section() -> None:
    """The basis line of a real QE 6.7 file (CdS, NC 25/100 Ry) holds what its
    ``<output>`` section says, read by hand: a1 = (−5.5086, 0, 5.5086) bohr, ...,
    ``ecutwfc`` 12.5 Ha, ``ecutrho`` 50 Ha, FFT 25×25×25, Γ tricks."""
    hashed = hash_inputs("pp.x", PP_INPUT, REAL_XML.parents[2])
    assert hashed.parent_basis == (
        "cell -5.509 0.000 5.509 / 0.000 5.509 5.509 / -5.509 5.509 0.000 bohr; "
        "ecutwfc 12.500000 Ha; ecutrho 50.000000 Ha; FFT 25x25x25; gamma_only true"
    )
    assert f"{PARENT_BASIS_PREFIX}{hashed.parent_basis}\n" in hashed.material
    assert hash_inputs("pw.x", PP_INPUT, REAL_XML.parents[2]).parent_basis == ""


def test_parents_with_the_same_atoms_and_other_cutoffs_hash_apart(tmp_path: Path) -> None:
    """The case that went unseen: the same atoms, ``ecutrho`` 50 → 62.5 Ha and a finer
    grid (a hand edit of the real file's output section). The keys differ, the atoms'
    digest does not, and the diff a miss prints names the cutoff."""
    text = REAL_XML.read_text()
    output = text.index("<output>")
    edited = text[:output] + text[output:].replace(
        "<ecutrho>5.000000000000000e1</ecutrho>", "<ecutrho>6.250000000000000e1</ecutrho>"
    ).replace('nr1="25" nr2="25" nr3="25"', 'nr1="27" nr2="27" nr3="27"')
    assert edited != text
    dual_8 = hash_inputs("pp.x", PP_INPUT, _parent_folder(tmp_path / "a", text))
    dual_10 = hash_inputs("pp.x", PP_INPUT, _parent_folder(tmp_path / "b", edited))
    assert dual_8.parent_system == dual_10.parent_system
    assert dual_8.digest != dual_10.digest
    assert "ecutrho 62.500000 Ha; FFT 27x27x27;" in dual_10.parent_basis


def test_the_cell_is_the_output_one(tmp_path: Path) -> None:
    """The cell comes from the ``<output>`` section (a vc-relax moves it away from the
    input's): a hand edit of the output a3 only shows in the line; the same edit of the
    input's is not read."""
    text = REAL_XML.read_text()
    output = text.index("<output>")
    a3 = "<a3>-5.508600000000000e0 5.508600000000000e0 0.000000000000000e0</a3>"
    moved = "<a3>-5.508600000000000e0 5.508600000000000e0 0.250000000000000e0</a3>"
    assert text[:output].count(a3) == 1
    assert text[output:].count(a3) == 1
    in_output = text[:output] + text[output:].replace(a3, moved)
    in_input = text[:output].replace(a3, moved) + text[output:]
    lines = {
        name: hash_inputs("pp.x", PP_INPUT, _parent_folder(tmp_path / name, body)).parent_basis
        for name, body in (("output", in_output), ("input", in_input), ("plain", text))
    }
    assert "/ -5.509 5.509 0.250 bohr" in lines["output"]
    assert lines["input"] == lines["plain"]


def test_a_zero_cell_component_hashes_without_its_sign(tmp_path: Path) -> None:
    """``-0.000000000000000e0`` (rounding noise of a rotated cell) and ``0.0...`` are
    one length: the same key (reference: :func:`hashing.unsigned_zeros`' rule)."""
    text = REAL_XML.read_text()
    output = text.index("<output>")
    signed = text[:output] + text[output:].replace(
        "<a1>-5.508600000000000e0 0.000000000000000e0", "<a1>-5.508600000000000e0 -1.0e-17", 1
    )
    assert signed != text
    keys = [
        hash_inputs("pp.x", PP_INPUT, _parent_folder(tmp_path / name, body)).digest
        for name, body in (("plain", text), ("signed", signed))
    ]
    assert keys[0] == keys[1]


def _parent(stem: str, ecutrho: float, ngm: int | None) -> StoredParent:
    return StoredParent(stem, f"ecutrho {ecutrho:.6f} Ha", ngm)


def test_a_parent_is_chosen_by_the_dense_gvectors_its_child_printed() -> None:
    """Hand-built: two runs of the same atoms at dual 8 and 10 (1 000 and 1 400 dense
    G-vectors) and the dual-8 run's NSCF (the same basis). A child that printed 1 000 is
    given dual 8; one basis among all candidates needs no evidence."""
    dual_8, nscf = _parent("a", 195.6, 1000), _parent("b", 195.6, 1000)
    dual_10 = _parent("c", 244.5, 1400)
    assert choose_parent([dual_8, nscf, dual_10], 1000, "pp.x/x").basis == dual_8.basis
    assert choose_parent([dual_8, dual_10], 1400, "pp.x/x") is dual_10
    assert choose_parent([dual_8, nscf], None, "pp.x/x").basis == dual_8.basis
    assert choose_parent([dual_8, nscf], 1000, "pp.x/x").basis == dual_8.basis
    assert choose_parent([dual_8, dual_10], None, "pp.x/x", override="c") is dual_10


@pytest.mark.parametrize(
    ("printed", "stored"),
    [
        (None, [1000, 1400]),  # no count printed, two bases
        (1200, [1000, 1400]),  # a count no candidate has
        (1200, [1200, 1200]),  # two bases with that count (only Γ tricks could do this)
        (None, [None, None]),  # neither side printed one: no match on None
    ],
)
def test_an_undecidable_parent_is_refused_with_the_option_that_settles_it(
    printed: int | None, stored: list[int | None]
) -> None:
    """Refused, naming ``--parent``, never a guess."""
    candidates = [_parent("a", 195.6, stored[0]), _parent("c", 244.5, stored[1])]
    with pytest.raises(ParentNotFoundError, match=r"--parent pp.x/x=<pw.x stem>"):
        choose_parent(candidates, printed, "pp.x/x")
    with pytest.raises(ParentNotFoundError, match="not of this recording's system"):
        choose_parent(candidates, printed, "pp.x/x", override="z")


def test_one_stored_basis_with_another_count_is_no_stand_in() -> None:
    """The real parent was removed; the one stored run of these atoms has other cutoffs
    (another G-vector count than the child printed): refused, not taken."""
    with pytest.raises(ParentNotFoundError, match="--parent"):
        choose_parent([_parent("a", 195.6, 1000)], 1400, "pp.x/x")


def _stored(code: str) -> list[tuple[Path, dict[str, str]]]:
    return [
        (path, json.loads(path.read_text()))
        for path in sorted(DEFAULT_STORE.glob(f"{code}/*.json"))
    ]


def test_every_stored_post_processing_recording_hashes_its_parent_basis() -> None:
    """No stored pp.x/projwfc.x recording was left on the old key (it would miss in
    replay): each one that names its parent's atoms also names its basis."""
    missing = [
        path.name
        for code in ("pp.x", "projwfc.x")
        for path, data in _stored(code)
        if PARENT_SYSTEM_PREFIX in data["material"] and PARENT_BASIS_PREFIX not in data["material"]
    ]
    assert not missing, f"run scripts/rekey_mock_store.py --apply: {missing}"


def test_every_stored_cube_has_its_parent_basis_grid() -> None:
    """The re-keying chose each pp.x recording's parent from the store; the grid pp.x
    itself wrote in the cube header (lines 4-6: points along each vector) is the FFT grid
    of the basis in its key (reference: pp.x's own output, not the re-keying's choice)."""
    checked = 0
    for path, data in _stored("pp.x"):
        with tarfile.open(path.with_name(f"{path.stem}.tar.xz"), "r:xz") as tar:
            cubes = [member for member in tar.getmembers() if member.name.endswith("fileout")]
            handle = tar.extractfile(cubes[0]) if cubes else None
            head = handle.read(4096).decode().splitlines() if handle else []
        if len(head) < 6:
            continue
        grid = "x".join(line.split()[0] for line in head[3:6])
        basis = next(line for line in data["material"].splitlines() if PARENT_BASIS_PREFIX in line)
        assert f"; FFT {grid};" in basis, (path.name, grid, basis)
        checked += 1
    assert checked >= 31, checked


def _save(
    store: RecordingStore, code: str, material: str, files: dict[str, bytes], stdout: str
) -> Path:
    digest = hashlib.sha256(material.encode()).hexdigest()
    metadata = RecordingMetadata(
        code, digest, material, (code,), "6.7MaX", "2026-12-07T00:00:00+00:00", "test", 0, ()
    )
    return store.save(Recording(metadata, files, stdout.encode(), b""))


def test_a_rekeyed_material_is_what_the_replay_hashes(tmp_path: Path) -> None:
    """A pp.x recording stored before the basis line, beside two stored parents of its
    atoms (the real file, 2 837 dense G-vectors; the same atoms at a higher ``ecutrho``,
    3 500), re-keyed from the store: its material equals the one the live hash makes
    downstream of the real file, so the replay finds it (reference: ``hash_inputs``)."""
    text = REAL_XML.read_text()
    output = text.index("<output>")
    denser = text[:output] + text[output:].replace(
        "<ecutrho>5.000000000000000e1</ecutrho>", "<ecutrho>6.250000000000000e1</ecutrho>"
    ).replace("<ngm>2837</ngm>", "<ngm>3500</ngm>")
    store = RecordingStore(tmp_path / "store")
    for index, body in enumerate((text, denser)):
        xml = {"out/cds.save/data-file-schema.xml": body.encode()}
        _save(store, "pw.x", f"# code pw.x\n{index}\n", xml, "")
    live = hash_inputs("pp.x", PP_INPUT, REAL_XML.parents[2])
    stale = live.material.replace(f"{PARENT_BASIS_PREFIX}{live.parent_basis}\n", "")
    assert stale != live.material
    printed = "     Sum        100      50     20                2837      700     300\n"
    archive = _save(store, "pp.x", stale, {}, printed)
    metadata = RecordingMetadata.from_json(archive.with_suffix("").with_suffix(".json").read_text())
    assert with_parent_basis(metadata, archive, parent_bases(store.root)) == live.material
